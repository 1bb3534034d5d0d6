//! The GitHub Action's run step (scripts/action.sh, called by action.yml),
//! run as in a pull request: annotations printed, SARIF written and
//! validated against the SARIF 2.1.0 schema.

mod common;

use std::path::Path;
use std::process::Command;

use common::{alembic_revision, git, write_tree};

/// A checkout of a pull request: `origin/main` has 001 and 002; the pull
/// request edits 002 (already merged) and adds 003 outside batch mode.
fn pull_request() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/001_users.py",
                alembic_revision(1, "    pass").as_bytes(),
            ),
            (
                "migrations/versions/002_seed.py",
                alembic_revision(2, "    op.execute(\"SELECT 1\")").as_bytes(),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "main"]);
    git(
        dir.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    git(dir.path(), &["checkout", "-q", "-b", "feature"]);
    write_tree(
        dir.path(),
        &[
            (
                "migrations/versions/002_seed.py",
                alembic_revision(2, "    op.execute(\"SELECT 2\")").as_bytes(),
            ),
            (
                "migrations/versions/003_email.py",
                alembic_revision(
                    3,
                    "    op.add_column(\"users\", sa.Column(\"email\", sa.String()))",
                )
                .as_bytes(),
            ),
        ],
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "feature"]);
    dir
}

fn run_action(dir: &Path, extra: &[(&str, &str)]) -> (i32, String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action.sh");
    let mut cmd = Command::new("bash");
    cmd.current_dir(dir)
        .arg(script)
        .arg("run")
        .env("MIGLINT", env!("CARGO_BIN_EXE_miglint"))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_HEAD_REF", "feature")
        .env("GITHUB_WORKSPACE", dir)
        .env("INPUT_PATH", ".")
        .env("NO_COLOR", "1");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pull_request_annotations_and_valid_sarif() {
    let dir = pull_request();
    let sarif = dir.path().join("miglint.sarif");
    let (code, stdout, stderr) =
        run_action(dir.path(), &[("INPUT_SARIF_FILE", sarif.to_str().unwrap())]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l
            .starts_with("::error file=migrations/versions/003_email.py,line=15,col=5,")
            && l.contains("title=miglint(batch-mode)::")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("::error file=migrations/versions/002_seed.py,line=15,")
            && l.contains(
                "title=miglint(immutable-migration)::migration `002` is already on origin/main"
            )),
        "{stdout}"
    );
    assert!(
        lines.iter().all(|l| l.starts_with("::")),
        "only workflow commands: {stdout}"
    );

    // The SARIF file holds the same findings and validates against the schema.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["results"].as_array().unwrap().len(),
        lines.len()
    );
    common::assert_valid_sarif(&sarif);
}

#[test]
fn changed_only_input_limits_annotations_to_the_pull_request() {
    let dir = pull_request();
    // A legacy problem on main, untouched by the pull request.
    let (_, before, _) = run_action(dir.path(), &[]);
    let legacy = alembic_revision(1, "    op.drop_column(\"users\", \"legacy\")");
    git(dir.path(), &["checkout", "-q", "main"]);
    write_tree(
        dir.path(),
        &[("migrations/versions/001_users.py", legacy.as_bytes())],
    );
    git(dir.path(), &["commit", "-q", "-am", "legacy on main"]);
    git(
        dir.path(),
        &["update-ref", "refs/remotes/origin/main", "HEAD"],
    );
    git(dir.path(), &["checkout", "-q", "feature"]);
    git(dir.path(), &["rebase", "-q", "main"]);
    let (_, all, _) = run_action(dir.path(), &[]);
    assert!(all.contains("001_users.py"), "{all}");
    let (code, changed, stderr) = run_action(dir.path(), &[("INPUT_CHANGED_ONLY", "true")]);
    assert_eq!(code, 1, "{changed}{stderr}");
    assert!(!changed.contains("001_users.py"), "{changed}");
    assert!(changed.contains("003_email.py"), "{changed}");
    assert!(!before.is_empty());
}

/// The job summary: Markdown with the findings by rule and by file, each
/// linked to its line in the commit the workflow runs on.
#[test]
fn job_summary_lists_findings_by_rule_and_file_with_links() {
    let dir = pull_request();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let (code, stdout, stderr) = run_action(
        dir.path(),
        &[
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_SHA", "0123abc"),
        ],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("earlier step\n<!-- miglint -->\n"),
        "appended: {text}"
    );
    assert!(
        text.contains("### miglint: 3 errors and 0 warnings"),
        "{text}"
    );
    assert!(text.contains("| `batch-mode` | error | 1 |"), "{text}");
    assert!(
        text.contains("| `immutable-migration` | error | 1 |"),
        "{text}"
    );
    assert!(
        text.contains("- [line 15](https://github.com/acme/shop/blob/0123abc/migrations/versions/003_email.py#L15): **error** `batch-mode`: "),
        "{text}"
    );
}

/// One recorded request to the fake GitHub API.
#[derive(Debug)]
struct Request {
    method: String,
    path: String,
    body: String,
}

/// A local HTTP server standing in for the GitHub API: answers the
/// comment listing with `comments` (JSON) and anything else with `{}`, and
/// records every request.
fn fake_github(comments: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Request>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").to_string(),
            );
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                let lower = header.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                assert!(
                    !lower.starts_with("authorization:") || lower.contains("bearer secret"),
                    "{header}"
                );
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let answer = if method == "GET" { comments } else { "{}" };
            record.lock().unwrap().push(Request {
                method,
                path,
                body: String::from_utf8(body).unwrap(),
            });
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            )
            .unwrap();
        }
    });
    (url, seen)
}

/// `comment: true`: the Action creates the pull request's miglint comment,
/// and updates it (never a second one) on the next push.
#[test]
fn pull_request_comment_is_created_then_updated() {
    let dir = pull_request();
    let event = dir.path().join("event.json");
    std::fs::write(&event, r#"{"pull_request": {"number": 42}}"#).unwrap();
    let run = |api: &str| {
        run_action(
            dir.path(),
            &[
                ("INPUT_COMMENT", "true"),
                ("INPUT_GITHUB_TOKEN", "secret"),
                ("GITHUB_API_URL", api),
                ("GITHUB_REPOSITORY", "acme/shop"),
                ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ],
        )
    };

    let (api, seen) = fake_github(r#"[{"id": 1, "body": "Looks good"}]"#);
    let (code, stdout, stderr) = run(&api);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let requests = seen.lock().unwrap();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].method, "GET");
    assert_eq!(
        requests[0].path,
        "/repos/acme/shop/issues/42/comments?per_page=100&page=1"
    );
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].path, "/repos/acme/shop/issues/42/comments");
    let body: serde_json::Value = serde_json::from_str(&requests[1].body).unwrap();
    let text = body["body"].as_str().unwrap();
    assert!(
        text.starts_with("<!-- miglint -->\n### miglint: 3 errors"),
        "{text}"
    );
    drop(requests);

    let (api, seen) = fake_github(
        r#"[{"id": 1, "body": "Looks good"}, {"id": 77, "body": "<!-- miglint -->\nold"}]"#,
    );
    let (code, stdout, stderr) = run(&api);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let requests = seen.lock().unwrap();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].method, "PATCH");
    assert_eq!(requests[1].path, "/repos/acme/shop/issues/comments/77");
    assert!(requests[1].body.contains("batch-mode"), "{:?}", requests[1]);
}
