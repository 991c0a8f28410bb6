//! The demo accounts: one per role and tier, each seeing what its role may see.

use bangfu_app::demo_accounts::{DEMO_PASSWORD, load_accounts};
use bangfu_app::{Actor, App};
use chrono::{TimeZone, Utc};

bangfu_store::backend_tests! {
    async fn demo_accounts_log_in_and_see_what_their_role_allows(db) {
        let app = App::open(db.url()).await.unwrap();
        let admin = Actor::system("test");
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(load_accounts(&app, &admin, now).await.is_err(), "accounts need the reference case");
        bangfu_app::demo::load(&app, &admin).await.unwrap();
        load_accounts(&app, &admin, now).await.unwrap();
        load_accounts(&app, &admin, now).await.unwrap(); // a second time adds nothing and does not fail
        for (username, sees_case) in [("quwo", true), ("linfen", true), ("shanxi", true), ("houma", false), ("leader", true), ("enterprise", true), ("wanrong", false)] {
            let session = app.login(now, "test", username, DEMO_PASSWORD).await.unwrap();
            let cases = app.list_cases(&session.actor, &Default::default(), bangfu_store::PageRequest::first(500)).await.unwrap().items;
            assert_eq!(!cases.is_empty(), sees_case, "{username}");
        }
    }
}
