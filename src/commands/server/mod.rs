//! `miglint server`: a language server over stdio.
//!
//! The editor's open buffers stand in for the files on disk; every change
//! lints the whole project the file belongs to (its chain, models and
//! queries, with the settings of its configuration file), so an edit in
//! one migration can raise or clear a finding in another, and every file's
//! findings are published. Linting runs on a worker thread: changes that
//! arrive while it runs are folded into one next run, and a run that a
//! newer change made stale is dropped before it publishes.
//!
//! Besides diagnostics: code actions for the safe fixes (one per finding,
//! and `source.fixAll.miglint` for a file), and hover on a rule id in a
//! `miglint: ignore[...]` comment, which shows the rule's documentation.

mod convert;

use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, FileSystemWatcher, GlobPattern, Hover,
    HoverContents, HoverParams, HoverProviderCapability, InitializeParams, MarkupContent,
    MarkupKind, MessageType, Position, PublishDiagnosticsParams, Range, Registration,
    RegistrationParams, ResourceOperationKind, ServerCapabilities, ServerInfo, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Url,
};

use crate::project::config::{ConfigError, Settings};
use convert::{EditSupport, Item};

/// What the main loop and the worker share.
#[derive(Default)]
struct Shared {
    /// Open buffers: their version and text.
    open: HashMap<PathBuf, (i32, String)>,
    /// Bumped on every change: a run that started before the last bump is
    /// stale.
    generation: u64,
    /// What was last published for each file.
    published: HashMap<PathBuf, Vec<Item>>,
    /// For each project linted, the files it published findings to (to
    /// clear them when they are gone).
    by_project: HashMap<PathBuf, BTreeSet<PathBuf>>,
}

type State = Arc<Mutex<Shared>>;

fn lock(state: &State) -> std::sync::MutexGuard<'_, Shared> {
    // A panic while the lock was held left plain data behind: go on.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// `miglint server`: serves on stdin and stdout until the client exits.
pub fn command() -> Result<i32, ConfigError> {
    let (connection, io_threads) = Connection::stdio();
    let failed = |e: &dyn std::fmt::Display| ConfigError(format!("language server: {e}"));
    serve(connection).map_err(|e| failed(&e))?;
    io_threads.join().map_err(|e| failed(&e))?;
    Ok(super::EXIT_CLEAN)
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn serve(connection: Connection) -> Result<(), Error> {
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(convert::FIX_ALL),
            ]),
            ..CodeActionOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let (id, params) = connection.initialize_start()?;
    let init: InitializeParams = serde_json::from_value(params)?;
    connection.initialize_finish(
        id,
        serde_json::json!({
            "capabilities": capabilities,
            "serverInfo": ServerInfo {
                name: "miglint".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            },
        }),
    )?;

    let workspace = workspace_root(&init);
    if let Some(root) = &workspace {
        // Paths in messages and git's view of the tree are relative to it.
        let _ = std::env::set_current_dir(root);
    }
    let edit_caps = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.workspace_edit.as_ref());
    let support = EditSupport {
        document_changes: edit_caps.and_then(|e| e.document_changes) == Some(true),
        renames: edit_caps
            .and_then(|e| e.resource_operations.as_ref())
            .is_some_and(|ops| ops.contains(&ResourceOperationKind::Rename)),
    };
    let watch = init
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|d| d.dynamic_registration)
        == Some(true);

    let state = State::default();
    let (jobs, queue) = mpsc::channel::<PathBuf>();
    let worker = {
        let state = state.clone();
        let sender = connection.sender.clone();
        let workspace = workspace.clone();
        std::thread::Builder::new()
            .name("miglint-lint".into())
            .spawn(move || {
                let send = move |m: Message| {
                    // The client went away: the main loop ends too.
                    let _ = sender.send(m);
                };
                work(queue, state, &send, workspace)
            })?
    };
    // Every change bumps the generation before its job is queued, so a
    // run that sees a newer generation knows another run follows.
    let changed = |path: PathBuf| {
        lock(&state).generation += 1;
        let _ = jobs.send(path);
    };

    // `initialize_finish` waited for `initialized`: the client is ready.
    if watch {
        register_watchers(&connection)?;
    }
    if let Some(root) = &workspace {
        changed(root.clone());
    }
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    break;
                }
                let response = answer(request, &state, support);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(n) => match n.method.as_str() {
                lsp_types::notification::DidOpenTextDocument::METHOD => {
                    let p: DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
                    if let Some(path) = file_path(&p.text_document.uri) {
                        lock(&state).open.insert(
                            path.clone(),
                            (p.text_document.version, p.text_document.text),
                        );
                        changed(path);
                    }
                }
                lsp_types::notification::DidChangeTextDocument::METHOD => {
                    let p: DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
                    if let (Some(path), Some(last)) = (
                        file_path(&p.text_document.uri),
                        p.content_changes.into_iter().last(),
                    ) {
                        lock(&state)
                            .open
                            .insert(path.clone(), (p.text_document.version, last.text));
                        changed(path);
                    }
                }
                lsp_types::notification::DidSaveTextDocument::METHOD => {
                    let p: DidSaveTextDocumentParams = serde_json::from_value(n.params)?;
                    if let Some(path) = file_path(&p.text_document.uri) {
                        changed(path);
                    }
                }
                lsp_types::notification::DidCloseTextDocument::METHOD => {
                    let p: DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
                    if let Some(path) = file_path(&p.text_document.uri) {
                        lock(&state).open.remove(&path);
                        changed(path);
                    }
                }
                lsp_types::notification::DidChangeWatchedFiles::METHOD => {
                    let p: DidChangeWatchedFilesParams = serde_json::from_value(n.params)?;
                    for event in p.changes {
                        if let Some(path) = file_path(&event.uri) {
                            changed(path);
                        }
                    }
                }
                // Requests are answered at once: nothing to cancel.
                _ => {}
            },
            Message::Response(_) => {}
        }
    }
    drop(jobs);
    let _ = worker.join();
    Ok(())
}

/// The folder the client opened: its first workspace folder, else its root.
fn workspace_root(init: &InitializeParams) -> Option<PathBuf> {
    init.workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .and_then(|f| f.uri.to_file_path().ok())
        .or_else(|| {
            #[allow(deprecated)]
            init.root_uri.as_ref().and_then(|u| u.to_file_path().ok())
        })
}

fn file_path(uri: &Url) -> Option<PathBuf> {
    (uri.scheme() == "file")
        .then(|| uri.to_file_path().ok())
        .flatten()
}

/// Asks the client to say when migrations, application files or
/// configuration change on disk (a new migration from `alembic revision`,
/// a `git checkout`).
fn register_watchers(connection: &Connection) -> Result<(), Error> {
    let watchers = [
        "**/*.py",
        "**/*.sql",
        "**/miglint.toml",
        "**/.miglint.toml",
        "**/pyproject.toml",
    ]
    .into_iter()
    .map(|glob| FileSystemWatcher {
        glob_pattern: GlobPattern::String(glob.into()),
        kind: None,
    })
    .collect();
    let params = RegistrationParams {
        registrations: vec![Registration {
            id: "miglint-watched-files".into(),
            method: lsp_types::notification::DidChangeWatchedFiles::METHOD.into(),
            register_options: Some(serde_json::to_value(
                DidChangeWatchedFilesRegistrationOptions { watchers },
            )?),
        }],
    };
    connection.sender.send(Message::Request(Request::new(
        RequestId::from("miglint-register-watchers".to_string()),
        lsp_types::request::RegisterCapability::METHOD.into(),
        params,
    )))?;
    Ok(())
}

/// Answers one request (everything but `shutdown`).
fn answer(request: Request, state: &State, support: EditSupport) -> Response {
    let id = request.id.clone();
    let bad = |e: serde_json::Error| {
        Response::new_err(id.clone(), ErrorCode::InvalidParams as i32, e.to_string())
    };
    match request.method.as_str() {
        lsp_types::request::CodeActionRequest::METHOD => {
            let p: CodeActionParams = match serde_json::from_value(request.params) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let shared = lock(state);
            let items = file_path(&p.text_document.uri)
                .and_then(|path| shared.published.get(&path))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let actions = convert::code_actions(
                &p.text_document.uri,
                items,
                p.range,
                p.context.only.as_deref(),
                support,
            );
            Response::new_ok(id, actions)
        }
        lsp_types::request::HoverRequest::METHOD => {
            let p: HoverParams = match serde_json::from_value(request.params) {
                Ok(p) => p,
                Err(e) => return bad(e),
            };
            let at = p.text_document_position_params;
            let text = file_path(&at.text_document.uri).and_then(|path| {
                lock(state)
                    .open
                    .get(&path)
                    .map(|(_, t)| t.clone())
                    .or_else(|| std::fs::read_to_string(&path).ok())
            });
            Response::new_ok(id, text.and_then(|t| hover(&t, at.position)))
        }
        _ => Response::new_err(
            id,
            ErrorCode::MethodNotFound as i32,
            format!("miglint does not answer {}", request.method),
        ),
    }
}

/// The documentation of the rule named under the cursor in a
/// `miglint: ignore[...]` comment.
fn hover(text: &str, at: Position) -> Option<Hover> {
    let line = text.lines().nth(at.line as usize)?;
    let byte = convert::byte_in_line(line, at.character);
    let (id, range) = convert::rule_in_directive(line, byte)?;
    let rule = crate::rules::find(id)?;
    let column = |b: usize| line[..b].encode_utf16().count() as u32;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: rule.doc.to_string(),
        }),
        range: Some(Range::new(
            Position::new(at.line, column(range.start)),
            Position::new(at.line, column(range.end)),
        )),
    })
}

/// The folder to lint for a change to `path`: the project its nearest
/// configuration file governs, else the workspace (when the file is in
/// it), else the file's own folder.
fn project_of(path: &Path, workspace: Option<&Path>) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    if let Ok(settings) = Settings::load(dir, None)
        && settings.config_path.is_some()
    {
        return settings.root;
    }
    match workspace {
        Some(root) if path.starts_with(root) => root.to_path_buf(),
        _ => dir.to_path_buf(),
    }
}

/// The worker: lints the projects that changed and publishes what it found.
fn work(queue: mpsc::Receiver<PathBuf>, state: State, sender: &Sender, workspace: Option<PathBuf>) {
    let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
    let memo = crate::analysis::Memo::default();
    let mut last_error: Option<String> = None;
    while let Ok(path) = queue.recv() {
        pending.insert(project_of(&path, workspace.as_deref()));
        for path in queue.try_iter() {
            pending.insert(project_of(&path, workspace.as_deref()));
        }
        let (generation, texts, versions) = {
            let shared = lock(&state);
            let texts: HashMap<PathBuf, String> = shared
                .open
                .iter()
                .map(|(p, (_, t))| (p.clone(), t.clone()))
                .collect();
            let versions: HashMap<PathBuf, i32> = shared
                .open
                .iter()
                .map(|(p, (v, _))| (p.clone(), *v))
                .collect();
            (shared.generation, Arc::new(texts), versions)
        };
        let mut results = Vec::new();
        let mut stale = false;
        for project in &pending {
            let run = catch_unwind(AssertUnwindSafe(|| {
                crate::commands::lint::lint_texts(project, &texts, &memo)
            }));
            let found = match run {
                Ok(Ok(outcomes)) => Ok(outcomes
                    .iter()
                    .map(|o| convert::findings(o, &versions))
                    .fold(HashMap::new(), |mut all, one| {
                        all.extend(one);
                        all
                    })),
                Ok(Err(e)) => Err(e.to_string()),
                Err(payload) => Err(format!(
                    "linting crashed: {}",
                    crate::analysis::panic_message(&*payload)
                )),
            };
            results.push((project.clone(), found));
            if lock(&state).generation != generation {
                stale = true;
                break;
            }
        }
        let mut shared = lock(&state);
        if stale || shared.generation != generation {
            // A newer change is queued: its run lints `pending` again,
            // from the new texts.
            continue;
        }
        pending.clear();
        for (project, found) in results {
            let mut found = match found {
                Ok(found) => found,
                Err(message) => {
                    if last_error.as_ref() != Some(&message) {
                        show_error(sender, &message);
                        last_error = Some(message);
                    }
                    continue;
                }
            };
            last_error = None;
            let before = shared.by_project.remove(&project).unwrap_or_default();
            let now: BTreeSet<PathBuf> = found.keys().cloned().collect();
            // Open files first (the user is looking at them), each
            // published with the version it was linted at, findings or
            // not; the others only when what they show changed.
            let mut order: Vec<&PathBuf> = before.union(&now).collect();
            order.extend(
                versions.keys().filter(|p| {
                    p.starts_with(&project) && !before.contains(*p) && !now.contains(*p)
                }),
            );
            order.sort_by_key(|p| !versions.contains_key(*p));
            for path in order {
                let items = found.remove(path).unwrap_or_default();
                let version = versions.get(path).copied();
                let unchanged = match shared.published.get(path) {
                    Some(old) => old
                        .iter()
                        .map(|i| &i.diagnostic)
                        .eq(items.iter().map(|i| &i.diagnostic)),
                    None => items.is_empty(),
                };
                if version.is_some() || !unchanged {
                    let diagnostics = items.iter().map(|i| i.diagnostic.clone()).collect();
                    publish(sender, path, diagnostics, version);
                }
                if items.is_empty() {
                    shared.published.remove(path);
                } else {
                    shared.published.insert(path.clone(), items);
                }
            }
            shared.by_project.insert(project, now);
        }
    }
}

/// Sends a message to the client.
type Sender = dyn Fn(Message);

fn publish(
    sender: &Sender,
    path: &Path,
    diagnostics: Vec<lsp_types::Diagnostic>,
    version: Option<i32>,
) {
    let Some(uri) = convert::uri(path) else {
        return;
    };
    let params = PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    sender(Message::Notification(Notification::new(
        lsp_types::notification::PublishDiagnostics::METHOD.into(),
        params,
    )));
}

fn show_error(sender: &Sender, message: &str) {
    let params = ShowMessageParams {
        typ: MessageType::ERROR,
        message: format!("miglint: {message}"),
    };
    sender(Message::Notification(Notification::new(
        lsp_types::notification::ShowMessage::METHOD.into(),
        params,
    )));
}
