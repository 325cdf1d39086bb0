use tests::spawn;

#[tokio::test]
async fn health_answers_ok() {
    let app = spawn().await;
    let a = app.call("GET", "/health", None, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["status"], "ok");
}
