#!/usr/bin/env bash
# Tries `miglint server` in a real Neovim, headless: opens a migration of a
# small yoyo project, waits for miglint's diagnostics, applies the quick fix
# it offers to the buffer, and waits for the finding to go. Needs `nvim`
# (0.7 or later) on PATH; docs/editors.md says what it proved and where.
#
#   scripts/try-neovim.sh [path/to/miglint]
set -euo pipefail
cd "$(dirname "$0")/.."
MIGLINT=$(realpath "${1:-target/release/miglint}")
command -v nvim >/dev/null || { echo "nvim is not on PATH" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project/migrations"
cd "$work/project"
printf -- '-- depends:\nCREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT, updated_at TEXT);\n' > migrations/0001_create_users.sql
echo 'DROP TABLE IF EXISTS users;' > migrations/0001_create_users.rollback.sql
printf -- '-- depends: 0001_create_users\nCREATE INDEX idx_users_name ON users (name);\n' > migrations/0002_index_users_name.sql
echo 'DROP INDEX IF EXISTS idx_users_name;' > migrations/0002_index_users_name.rollback.sql

# The configuration docs/editors.md gives for Neovim 0.7 (0.8 and later
# have vim.lsp.start, 0.11 vim.lsp.config).
cat > "$work/init.lua" <<LUA
local id = vim.lsp.start_client({
  name = "miglint",
  cmd = { "$MIGLINT", "server" },
  root_dir = vim.fn.getcwd(),
})
vim.api.nvim_create_autocmd("FileType", {
  pattern = { "python", "sql" },
  callback = function(args) vim.lsp.buf_attach_client(args.buf, id) end,
})
LUA
cat > "$work/check.lua" <<'LUA'
local out = {}
local function say(s) table.insert(out, s) end
if not vim.wait(10000, function() return #vim.diagnostic.get(0) > 0 end, 20) then
  say("FAIL: no diagnostics")
end
for _, d in ipairs(vim.diagnostic.get(0)) do
  say(string.format("diagnostic %d:%d %s: %s", d.lnum + 1, d.col + 1, d.source, (d.message:gsub("\n.*", ""))))
end
vim.api.nvim_win_set_cursor(0, { 2, 0 })
local params = vim.lsp.util.make_range_params()
params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(0, 1) }
for _, res in pairs(vim.lsp.buf_request_sync(0, "textDocument/codeAction", params, 5000) or {}) do
  for _, action in ipairs(res.result or {}) do
    say("code action: " .. action.title .. " (" .. action.kind .. ")")
    if action.kind == "quickfix" then vim.lsp.util.apply_workspace_edit(action.edit, "utf-16") end
  end
end
say("line 2 after the quick fix: " .. vim.api.nvim_buf_get_lines(0, 1, 2, false)[1])
if not vim.wait(10000, function() return #vim.diagnostic.get(0) == 0 end, 20) then
  say("FAIL: the finding stayed after the fix")
end
vim.fn.writefile(out, vim.env.OUT)
vim.cmd("qa!")
LUA
OUT="$work/out.txt" timeout 60 nvim --headless -u "$work/init.lua" migrations/0002_index_users_name.sql -c "luafile $work/check.lua"
echo "$(nvim --version | head -1):"
sed 's/^/  /' "$work/out.txt"
! grep -q FAIL "$work/out.txt"
