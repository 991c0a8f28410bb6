//! Work-arounds for differences between the backends as seen through sqlx's `Any` driver.
//! Each is marked `DIALECT:` where it is used.

use sqlx::Database;
use sqlx::any::AnyTypeInfo;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::{Any, Type};

/// A nullable `f64` parameter. Bind every `Option<f64>` through [`float`].
///
/// DIALECT: sqlx 0.9's `Any` driver hands a NULL `f64` to PostgreSQL as a NULL `float4` (and a
/// NULL `f32` as a NULL `float8`: the two are swapped in `AnyArguments::convert_into`). The
/// `float4` then sticks to the cached prepared statement, and the next execution of the same SQL
/// with a number in that place is refused: "incorrect binary data format in bind parameter N".
/// A NULL is therefore encoded as the `f32` NULL, which arrives as `float8`. SQLite is unaffected.
/// `dialect_nulls_then_numbers_in_one_statement` (tests/store.rs) catches a change in sqlx.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NullableF64(Option<f64>);

pub(crate) fn float(value: Option<f64>) -> NullableF64 {
    NullableF64(value)
}

impl Type<Any> for NullableF64 {
    fn type_info() -> AnyTypeInfo {
        <f64 as Type<Any>>::type_info()
    }
}

impl<'q> Encode<'q, Any> for NullableF64 {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        match self.0 {
            Some(value) => <f64 as Encode<'q, Any>>::encode_by_ref(&value, buf),
            None => <Option<f32> as Encode<'q, Any>>::encode_by_ref(&None, buf),
        }
    }
}
