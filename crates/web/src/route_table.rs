//! The server's routes as a table. [`route_table!`] builds a router and, from the same lines, the
//! list of every (method, path) it serves, so that nothing can be routed without being listed:
//! the access matrix test (`tests/matrix.rs`) holds every listed route to a row of its table, and
//! the OpenAPI document to an operation.

/// `route_table!(fn routes, ROUTES: "/path" => get(handler).post(other), …)` declares
/// `fn routes() -> Router<AppState>` and `const ROUTES: &[(method, path)]`.
macro_rules! route_table {
    ($router:ident, $table:ident: $( $path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))* ),* $(,)?) => {
        fn $router() -> axum::Router<crate::AppState> {
            axum::Router::new() $( .route($path, axum::routing::$method($handler) $(.$more($more_handler))*) )*
        }

        /// Every (method, path) the router serves, in the order declared.
        pub const $table: &[(&str, &str)] = &[ $( (stringify!($method), $path) $(, (stringify!($more), $path))* ),* ];
    };
}

pub(crate) use route_table;
