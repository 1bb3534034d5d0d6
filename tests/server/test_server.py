"""`miglint server` driven end to end by a real LSP client (pytest-lsp).

Each test runs once with the capabilities Visual Studio Code announces and
once with Neovim's, as pytest-lsp records them. The project is a small yoyo
folder written into a temporary directory; the server is the binary named
by MIGLINT_BIN (tests/server.rs sets it).
"""

import asyncio
import os
import pathlib

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

MIGLINT = os.environ["MIGLINT_BIN"]

USERS = """-- depends:
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""
INDEX = """-- depends: 0001_create_users
CREATE INDEX idx_users_name ON users (name);
"""


@pytest.fixture
def project(tmp_path: pathlib.Path) -> pathlib.Path:
    m = tmp_path / "migrations"
    m.mkdir()
    (m / "0001_create_users.sql").write_text(USERS)
    (m / "0001_create_users.rollback.sql").write_text("DROP TABLE IF EXISTS users;\n")
    (m / "0002_index_users_name.sql").write_text(INDEX)
    (m / "0002_index_users_name.rollback.sql").write_text(
        "DROP INDEX IF EXISTS idx_users_name;\n"
    )
    return tmp_path


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[MIGLINT, "server"]),
    params=["visual-studio-code", "neovim"],
)
async def client(lsp_client: LanguageClient, request, project: pathlib.Path):
    lsp_client.registrations = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)

    params = types.InitializeParams(
        capabilities=client_capabilities(request.param),
        root_uri=project.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="p")],
    )
    result = await lsp_client.initialize_session(params)
    assert result.server_info.name == "miglint"
    yield
    await lsp_client.shutdown_session()


async def published(client: LanguageClient, uri: str, check, timeout=30.0):
    """Waits until the diagnostics published for `uri` satisfy `check`."""

    async def wait():
        while not (uri in client.diagnostics and check(client.diagnostics[uri])):
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return client.diagnostics[uri]

    return await asyncio.wait_for(wait(), timeout)


def rules(diagnostics):
    return sorted(str(d.code) for d in diagnostics if d.code is not None)


def open_doc(client: LanguageClient, path: pathlib.Path, version=1, text=None):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(),
                language_id="sql",
                version=version,
                text=path.read_text() if text is None else text,
            )
        )
    )


def change(client: LanguageClient, path: pathlib.Path, version: int, text: str):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri=path.as_uri(), version=version
            ),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


def apply(text: str, edits) -> str:
    """Applies LSP text edits (UTF-16 positions; ASCII here) to `text`."""
    lines = text.splitlines(keepends=True)

    def offset(pos):
        return sum(len(l) for l in lines[: pos.line]) + pos.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def edits_for(edit: types.WorkspaceEdit, uri: str):
    if edit.document_changes is not None:
        out = []
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit), change
            if change.text_document.uri == uri:
                out.extend(change.edits)
        return out
    return edit.changes[uri]


@pytest.mark.asyncio(loop_scope="function")
async def test_open_fix_and_close(client: LanguageClient, project: pathlib.Path):
    path = project / "migrations" / "0002_index_users_name.sql"
    uri = path.as_uri()
    open_doc(client, path)
    found = await published(client, uri, lambda d: "if-exists-guard" in rules(d))
    guard = next(d for d in found if d.code == "if-exists-guard")
    assert guard.severity == types.DiagnosticSeverity.Error
    assert guard.source == "miglint"
    assert guard.range.start == types.Position(line=1, character=0)
    assert "IF NOT EXISTS" in guard.message

    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=guard.range,
            context=types.CodeActionContext(diagnostics=[guard]),
        )
    )
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    assert [a.title for a in quick] == ["add `IF NOT EXISTS`"]
    fixed = apply(path.read_text(), edits_for(quick[0].edit, uri))
    assert "CREATE INDEX IF NOT EXISTS idx_users_name ON users (name);" in fixed
    fix_all = [a for a in actions if a.kind == "source.fixAll.miglint"]
    assert len(fix_all) == 1
    assert apply(path.read_text(), edits_for(fix_all[0].edit, uri)) == fixed

    # The client applies the fix to its buffer: the finding goes away.
    change(client, path, 2, fixed)
    await published(client, uri, lambda d: "if-exists-guard" not in rules(d))
    # Nothing was written to disk; closing the buffer brings the file back.
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)
        )
    )
    await published(client, uri, lambda d: "if-exists-guard" in rules(d))


@pytest.mark.asyncio(loop_scope="function")
async def test_an_edit_in_one_migration_is_judged_in_the_next(
    client: LanguageClient, project: pathlib.Path
):
    first = project / "migrations" / "0001_create_users.sql"
    second_uri = (project / "migrations" / "0002_index_users_name.sql").as_uri()
    # The workspace is linted once the client is ready, open files or not.
    await published(client, second_uri, lambda d: rules(d) == ["if-exists-guard"])
    open_doc(client, first)
    # The column the next migration indexes is renamed, in the buffer only.
    change(client, first, 2, USERS.replace("name TEXT", "title TEXT"))
    found = await published(
        client, second_uri, lambda d: "schema-consistency" in rules(d)
    )
    broken = next(d for d in found if d.code == "schema-consistency")
    assert "users.name" in broken.message
    # Back as it was: the finding in the other file is cleared.
    change(client, first, 3, USERS)
    await published(client, second_uri, lambda d: "schema-consistency" not in rules(d))


@pytest.mark.asyncio(loop_scope="function")
async def test_related_information_points_at_the_other_file(
    client: LanguageClient, project: pathlib.Path
):
    m = project / "migrations"
    (m / "0002_tags.sql").write_text(
        "-- depends: 0001_create_users\n"
        "CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, created_at TEXT, updated_at TEXT);\n"
    )
    (m / "0002_tags.rollback.sql").write_text("DROP TABLE IF EXISTS tags;\n")
    path = m / "0002_tags.sql"
    open_doc(client, path)
    found = await published(
        client, path.as_uri(), lambda d: "sequential-numbering" in rules(d)
    )
    numbering = next(d for d in found if d.code == "sequential-numbering")
    related = numbering.related_information
    assert related and related[0].location.uri == (m / "0002_index_users_name.sql").as_uri()
    assert related[0].message == "also numbered here"


@pytest.mark.asyncio(loop_scope="function")
async def test_hover_on_a_suppressed_rule_shows_its_doc(
    client: LanguageClient, project: pathlib.Path
):
    path = project / "migrations" / "0002_index_users_name.sql"
    text = INDEX + "-- miglint: ignore[if-exists-guard]\n"
    open_doc(client, path, text=text)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=2, character=25),
        )
    )
    assert hover is not None
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "if-exists-guard" in hover.contents.value.splitlines()[0]
    assert hover.range.start.character == len("-- miglint: ignore[")
    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            position=types.Position(line=1, character=3),
        )
    )
    assert nothing is None


@pytest.mark.asyncio(loop_scope="function")
async def test_only_the_last_of_quick_edits_is_published(
    client: LanguageClient, project: pathlib.Path
):
    path = project / "migrations" / "0002_index_users_name.sql"
    uri = path.as_uri()
    open_doc(client, path)
    await published(client, uri, lambda d: "if-exists-guard" in rules(d))
    for version in range(2, 40):
        # Typing: even versions lack the guard, odd ones have it.
        text = INDEX if version % 2 == 0 else INDEX.replace("INDEX", "INDEX IF NOT EXISTS")
        change(client, path, version, text)
    # The last version (39) has the guard: its run ends clean, and no run
    # of an older version publishes after it.
    await published(client, uri, lambda d: "if-exists-guard" not in rules(d))
    await asyncio.sleep(1)
    assert "if-exists-guard" not in rules(client.diagnostics[uri])


@pytest.mark.asyncio(loop_scope="function")
async def test_a_broken_configuration_is_shown_not_fatal(
    client: LanguageClient, project: pathlib.Path
):
    (project / "miglint.toml").write_text("[rules.no-such-rule]\nseverity = 'error'\n")
    path = project / "migrations" / "0002_index_users_name.sql"
    open_doc(client, path)

    async def shown():
        while not client.messages:
            await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
        return client.messages[0]

    message = await asyncio.wait_for(shown(), 30)
    assert message.type == types.MessageType.Error
    assert "no-such-rule" in message.message
    # Fixed on disk and saved: linting goes on.
    (project / "miglint.toml").write_text("")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )
    await published(client, path.as_uri(), lambda d: "if-exists-guard" in rules(d))


@pytest.mark.asyncio(loop_scope="function")
async def test_a_migration_written_on_disk_is_linted(
    client: LanguageClient, project: pathlib.Path
):
    second = project / "migrations" / "0002_index_users_name.sql"
    await published(client, second.as_uri(), lambda d: rules(d) == ["if-exists-guard"])
    watched = [r for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"]
    if client.capabilities.workspace.did_change_watched_files.dynamic_registration:
        globs = [w["globPattern"] for w in watched[0].register_options["watchers"]]
        assert "**/*.sql" in globs
    else:
        assert watched == []
    # `yoyo new` writes the next migration; the client says so.
    third = project / "migrations" / "0003_drop_users.sql"
    third.write_text("-- depends: 0002_index_users_name\nDROP TABLE users;\n")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=third.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    found = await published(client, third.as_uri(), lambda d: "rollback-required" in rules(d))
    assert "if-exists-guard" in rules(found)


@pytest.mark.asyncio(loop_scope="function")
async def test_an_edit_in_the_application_is_judged_against_the_migrations(
    client: LanguageClient, project: pathlib.Path
):
    app = project / "app"
    app.mkdir()
    queries = app / "queries.py"
    queries.write_text(
        'def find(db, name):\n    return db.execute("SELECT id FROM users WHERE name = ?", (name,))\n'
    )
    first_uri = (project / "migrations" / "0001_create_users.sql").as_uri()
    open_doc(client, queries)
    # `users.name` has its index: nothing to say yet.
    await published(client, queries.as_uri(), lambda d: len(d) == 0)
    assert "filtered-column-index" not in rules(client.diagnostics.get(first_uri, []))
    # The query now filters on a column no index starts with, in the buffer only.
    change(client, queries, 2, queries.read_text().replace("name = ?", "created_at > ?"))
    found = await published(
        client, first_uri, lambda d: "filtered-column-index" in rules(d)
    )
    finding = next(d for d in found if d.code == "filtered-column-index")
    assert "users.created_at" in finding.message
    used = finding.related_information[0]
    assert used.location.uri == queries.as_uri()
    assert used.location.range.start.line == 1
    change(client, queries, 3, queries.read_text())
    await published(
        client, first_uri, lambda d: "filtered-column-index" not in rules(d)
    )
