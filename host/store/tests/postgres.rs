//! The Postgres backend: the conformance suite on a real server
//! (127.0.0.1:5432, user postgres, trust auth). Each test creates its own
//! database through `test` and drops it afterwards.

use sqlx::{Connection, Executor, PgConnection};
use weft_store::{PgStore, SecretKey};

/// The server and the database the test databases are created from.
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Drops its database when dropped.
struct Db {
    name: String,
}

impl Drop for Db {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a runtime of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(ADMIN_URL).await {
                    let _ = c
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

async fn setup() -> (PgStore, Db) {
    let name = format!("weft_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(ADMIN_URL)
        .await
        .expect("Postgres at 127.0.0.1:5432 (start it with dev/setup)");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    admin.close().await.ok();
    let db = Db { name };
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let store = PgStore::connect(&url, SecretKey::generate())
        .await
        .expect("connect");
    (store, db)
}

weft_store::store_conformance_tests!(setup);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_store_picks_the_backend() {
    let (store, db) = setup().await;
    store.close().await.expect("close");
    let home = tempfile::tempdir().expect("tempdir");
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let pg = weft_store::open_store(&url, home.path()).await.expect("pg");
    pg.set_secret("s", "v").await.expect("secret");
    assert_eq!(
        pg.read_secret("s").await.expect("read").as_deref(),
        Some("v")
    );
    let path = home.path().join("x/weft.db");
    let lite = weft_store::open_store(&format!("sqlite://{}", path.display()), home.path())
        .await
        .expect("sqlite");
    assert!(lite.list_flows().await.expect("flows").is_empty());
    assert!(path.exists());
    assert!(matches!(
        weft_store::open_store("mysql://x", home.path()).await,
        Err(weft_store::StoreError::Invalid(_))
    ));
}

/// Two servers: two independent store handles (pools) on one database
/// schedule the same slots at once; each slot gets one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_schedule_each_slot_once() {
    let (a, db) = setup().await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
    let b = PgStore::connect(&url, SecretKey::generate())
        .await
        .expect("second handle");
    weft_store::conformance::two_handles_schedule_each_slot_once(&a, &b).await;
    a.close().await.expect("close");
    b.close().await.expect("close");
}
