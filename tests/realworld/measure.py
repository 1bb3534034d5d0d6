"""Holds miglint's findings and replayed schema against what real Alembic did.

    .venv/bin/python tests/realworld/measure.py \
        --alembic .cache/realworld/alembic.json --miglint target/release/miglint \
        --out .cache/realworld/measure.json [--markdown .cache/realworld/measure.md] \
        [--check tests/realworld/expected.json | --update tests/realworld/expected.json]

For every chain of manifest.json (already fetched by fetch.py and run by
run.py), this writes .cache/realworld/lint/<chain>/miglint.toml (dialect =
"sqlite", migrations = the chain's versions folder: nothing is written into
the unpacked project), runs `miglint lint --format json` and `miglint schema
--format json` there, and reports:

* findings by rule and severity;
* for the rules that claim an operation cannot run (schema-consistency,
  sqlite-exec, foreign-key-target, parse-error, internal-error) and for
  downgrade-roundtrip: each error-level finding judged against real Alembic.
  A finding in upgrade() (or a helper) of a revision Alembic applied cleanly
  is false; one in downgrade() of a revision Alembic rolled back cleanly is
  false; one at the step Alembic refused is true; past the refusal it is
  unverified. downgrade-roundtrip is true when SQLite's schema after the
  downgrade differs from the one before the upgrade. foreign-key-target
  ("points at table X, which does not exist") is true when SQLite's schema
  after that revision lacks X too (SQLite accepts such a key). revision-chain "skips
  the previous migration" is false when Alembic's own graph has that edge;
* the false ones grouped by cause (pattern rules below, first match wins),
  with counts and two examples each (file:line and the source line);
* miglint's schema at the last revision Alembic reached against SQLite's:
  tables, columns, indexes and foreign keys equal / different / one side only;
* and at every revision Alembic applied (`miglint schema --each`): how many
  agree with SQLite's in every one of those facts, and the first that does
  not, with what differs.

With --check, the run is held against tests/realworld/expected.json (exit 1
on any difference): findings by rule must be exactly the recorded ones (so a
change in noise shows in review), false findings may not grow, true ones may
not shrink, and the schema may not agree less with SQLite's (at head, and
in the number of revisions that agree). --update
rewrites that file from this run.
"""

import argparse
import ast
import collections
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(ROOT, ".cache", "realworld")

TRUTH_RULES = {"schema-consistency", "sqlite-exec", "foreign-key-target", "undefined-attribute", "parse-error", "internal-error"}


# ---------------------------------------------------------------------------
# Running miglint
# ---------------------------------------------------------------------------


# Which database the run was on (--database): the dialect miglint is told,
# the folder its configurations go to, and how types are compared.
DATABASE = "sqlite"
DATABASE_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def lint_root():
    return "lint" if DATABASE == "sqlite" else f"lint-{DATABASE}"


def lint_dir(chain_id, root=None):
    return os.path.join(CACHE, root or lint_root(), chain_id)


def write_config(project, chain, baseline_sql="", projects=CACHE, lint_root=None):
    """miglint.toml for one chain, in .cache (never beside the project's files);
    a chain that starts from create_all gets that schema as its baseline.
    `projects`: where the unpacked projects are (fixcheck.py lints copies)."""
    pdir = os.path.join(projects, f"{project['package']}-{project['version']}")
    folders = [os.path.join(pdir, chain["script_dir"], "versions")]
    folders += [os.path.join(pdir, v) for v in chain.get("version_locations") or []]
    d = lint_dir(chain["id"], lint_root)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "miglint.toml"), "w") as f:
        f.write(f'dialect = "{DATABASE}"\n')
        f.write("migrations = [" + ", ".join(json.dumps(x) for x in folders) + "]\n")
        # The application is the unpacked project, never what lies around
        # this folder. Only the migration folders and a few files are
        # unpacked: the models where the manifest names them (else
        # model-drift is given this folder, which holds none).
        f.write(f"queries = [{json.dumps(pdir)}]\n")
        models = [os.path.join(pdir, m) for m in (chain.get("models") or {}).get("files", [])] or [d]
        f.write("models = [" + ", ".join(json.dumps(m) for m in models) + "]\n")
        if baseline_sql:
            f.write('baseline = "baseline.sql"\n')
    if baseline_sql:
        with open(os.path.join(d, "baseline.sql"), "w") as f:
            f.write(baseline_sql)
    return d


def run_miglint(binary, chain_id, at):
    d = lint_dir(chain_id)
    lint = subprocess.run([binary, "lint", "--config", "miglint.toml", "--format", "json", "--no-cache"],
                          cwd=d, capture_output=True, text=True)
    if lint.returncode not in (0, 1):
        raise RuntimeError(f"miglint lint failed on {chain_id}: {lint.stderr}")
    cmd = [binary, "schema", "--config", "miglint.toml", "--format", "json"] + (["--at", at] if at else [])
    schema = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
    if schema.returncode != 0:
        raise RuntimeError(f"miglint schema failed on {chain_id}: {schema.stderr}")
    with open(os.path.join(d, "lint.json"), "w") as f:
        f.write(lint.stdout)
    sets = json.loads(schema.stdout)["sets"]
    return json.loads(lint.stdout), (sets[0]["schema"] if sets else {"tables": [], "indexes": []})


# ---------------------------------------------------------------------------
# Reading the revision files
# ---------------------------------------------------------------------------

_sources = {}


def source(path):
    if path not in _sources:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            tree = None
        _sources[path] = (text, text.splitlines(), tree)
    return _sources[path]


def header(node, lines):
    """The whole header of a compound statement, even when it spans lines."""
    if isinstance(node, ast.If):
        return "if " + ast.unparse(node.test)
    if isinstance(node, ast.While):
        return "while " + ast.unparse(node.test)
    if isinstance(node, ast.For):
        return f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}"
    if isinstance(node, ast.With):
        return "with " + ", ".join(ast.unparse(i) for i in node.items)
    if isinstance(node, ast.Try):  # the except handlers' suppression counts too
        return "try: " + " ".join(lines[h.lineno - 1].strip() for h in node.handlers)
    return lines[node.lineno - 1].strip()


def enclosing(path, line):
    """(top-level function name, [source lines of the enclosing if/for/try/with
    headers, innermost first]) for a line of a revision file."""
    text, lines, tree = source(path)
    if tree is None:
        return None, []
    func, headers = None, []

    def visit(node, stack):
        nonlocal func, headers
        for child in ast.iter_child_nodes(node):
            start, end = getattr(child, "lineno", None), getattr(child, "end_lineno", None)
            if start is None or not (start <= line <= end):
                continue
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None:
                func = child.name
            new = stack
            if isinstance(child, (ast.If, ast.For, ast.While, ast.Try, ast.With)) and start < line:
                new = [header(child, lines)] + stack
            headers = new
            visit(child, new)

    visit(tree, [])
    # `if <condition>: return` earlier in the same function guards this line too.
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            for stmt in ast.walk(node):
                if (isinstance(stmt, ast.If) and stmt.end_lineno < line and stmt.body
                        and isinstance(stmt.body[-1], ast.Return)):
                    headers = headers + [header(stmt, lines)]
    return func, headers


def names_in(message):
    return re.findall(r"`([^`]*)`", message)


# ---------------------------------------------------------------------------
# Real Alembic's side
# ---------------------------------------------------------------------------


class Truth:
    """What real Alembic did on one chain, step by step."""

    def __init__(self, result):
        self.order = result["revisions"]
        self.files = {os.path.realpath(os.path.join(CACHE, p)): r for r, p in result.get("files", {}).items()}
        self.up, self.down = {}, {}
        self.up_error = self.down_error = None
        for s in result["steps"]:
            target = self.up if s["way"] == "up" else self.down
            if "error" in s:
                if s["way"] == "up":
                    self.up_error = s
                else:
                    self.down_error = s
            else:
                target[s["rev"]] = s["schema"]
        self.empty = {"tables": [], "columns": [], "indexes": [], "uniques": [], "fks": []}
        self.base_schema = result.get("base_schema") or self.empty

    def before_up(self, rev):
        """SQLite's schema just before `rev` was applied (the previous step in order)."""
        i = self.order.index(rev)
        for prev in reversed(self.order[:i]):
            if prev in self.up:
                return self.up[prev]
        return self.base_schema

    def before_down(self, rev):
        """SQLite's schema just before `rev` was rolled back."""
        i = self.order.index(rev)
        for later in self.order[i + 1:]:  # rolled back just before this one
            if later in self.down:
                return self.down[later]
        return self.up.get(self.order[-1]) if self.order else self.empty

    def first_with_table(self, table):
        for r in self.order:
            if r in self.up and table in self.up[r]["tables"]:
                return r
        return None

    def last_applied(self):
        applied = [r for r in self.order if r in self.up]
        return applied[-1] if applied else None


def judge(finding, truth, chain):
    """'true', 'false', 'unverified' (past Alembic's refusal) or 'unmapped'."""
    path = os.path.realpath(finding["path"])
    rev = truth.files.get(path)
    if rev is None:
        return "unmapped", None, None
    func, _ = enclosing(path, finding["line"])
    side = "down" if func and "downgrade" in func else "up"
    rule = finding["rule"]
    if rule == "downgrade-roundtrip":
        if rev not in truth.down:
            return "unverified", rev, side
        before, after = truth.before_up(rev), truth.down[rev]
        same = all(sorted(map(str, before[k])) == sorted(map(str, after[k])) for k in before)
        return ("false" if same else "true"), rev, "down"
    if side == "up":
        if truth.up_error and truth.up_error["rev"] == rev:
            return "true", rev, side
        # SQLite accepts a foreign key to a missing table: the claim is
        # that the table is missing, which SQLite's schema shows.
        m = re.search(r"points at table `([^`]*)`, which does not exist", finding["message"])
        if rule == "foreign-key-target" and m and rev in truth.up:
            return ("true" if m.group(1) not in truth.up[rev]["tables"] else "false"), rev, side
        return ("false" if rev in truth.up else "unverified"), rev, side
    if truth.down_error and truth.down_error["rev"] == rev:
        return "true", rev, side
    return ("false" if rev in truth.down else "unverified"), rev, side


# ---------------------------------------------------------------------------
# Why a false finding is false: pattern rules, first match wins.
# ---------------------------------------------------------------------------

GUARD = re.compile(r"has_table|has_column|has_index|inspect|get_existing|get_table_names|get_columns|"
                   r"get_indexes|get_foreign_keys|get_unique|_exists|existing|\bin tables\b|not in \w*tables|"
                   r"table_names|columns\b|indexes\b", re.I)
DIALECT = re.compile(r"dialect|sqlite|postgres|mysql|mssql|mariadb|engine_name|\.name ==|is_sqlite|bind\.name", re.I)
SUPPRESS = re.compile(r"^try:|suppress\(|except", re.I)


def claim(msg):
    """(what miglint says, table, object) read from a finding's message."""
    pats = [
        (r"^index `([^`]*)` is on table `([^`]*)`, which does not exist", "missing_table", 2, 1),
        (r"^index `([^`]*)` covers `([^`.]*)\.([^`]*)`, which does not exist", "missing_column", 2, 3),
        (r"^foreign key `([^`(]*)\([^`]*` points at table `([^`]*)`", "missing_table", 2, 2),
        (r"^constraint on `([^`.]*)\.([^`]*)`: no such column", "missing_column", 1, 2),
        (r"^column `([^`.]*)\.([^`]*)` does not exist", "missing_column", 1, 2),
        (r"^column `([^`.]*)\.([^`]*)` already exists", "present_column", 1, 2),
        (r"^table `([^`]*)` has no constraint named `([^`]*)`", "missing_constraint", 1, 2),
        (r"^table `([^`]*)` does not exist", "missing_table", 1, 1),
        (r"^table `([^`]*)` already exists", "present_table", 1, 1),
        (r"^index `([^`]*)` does not exist", "missing_index", None, 1),
        (r"^index `([^`]*)` already exists", "present_index", None, 1),
        (r"^SQLite: no such table: (\w+)", "missing_table", 1, 1),
    ]
    for pat, kind, t, o in pats:
        m = re.search(pat, msg)
        if m:
            return kind, (m.group(t) if t else None), m.group(o)
    return None, None, None


def direct_cause(path, line, stmt, msg):
    """A cause visible at the finding's own line: the code around it, or how
    a name is written. None when the line itself looks plain."""
    _, headers = enclosing(path, line)
    for h in headers:
        if DIALECT.search(h):
            return "dialect branch (code for another database replayed here)"
    for h in headers:
        if GUARD.search(h) and h.startswith(("if", "elif", "for", "while")):
            return "inspector guard (op run only if the object is / is not there)"
    for h in headers:
        if SUPPRESS.search(h):
            return "error suppressed at run time (try/except, contextlib.suppress)"
    if msg is not None and ("" in names_in(msg) or re.search(r"`\.[a-z_]|`\(", msg)):
        if "op.f(" in stmt:
            return "op.f() name read as empty"
        if "__tablename__" in stmt:
            return "table name from an ORM class attribute (Model.__tablename__)"
        if re.search(r"\bf[\"']", stmt):
            return "name from an f-string"
        if any(h.startswith("for ") for h in headers):
            return "loop variable as a name"
        return "name from a variable, subscript or helper argument"
    return None


def statement(lines, line):
    return " ".join(l.strip() for l in lines[line - 1:line + 6])


class MiglintAt:
    """miglint's replayed schema after a given revision (`miglint schema --at`),
    cached: used to find the revision where the replay first lost an object."""

    def __init__(self, binary, chain_id):
        self.binary, self.dir, self.cache = binary, lint_dir(chain_id), {}

    def columns(self, rev):
        if rev not in self.cache:
            r = subprocess.run([self.binary, "schema", "--config", "miglint.toml", "--format", "json", "--at", rev],
                               cwd=self.dir, capture_output=True, text=True)
            cols, indexes = {}, set()
            if r.returncode == 0:
                for st in json.loads(r.stdout)["sets"]:
                    for t in st["schema"]["tables"]:
                        cols[t["name"]] = {c["name"] for c in t["columns"]}
                    indexes |= {i["name"] for i in st["schema"]["indexes"]}
            self.cache[rev] = (cols, indexes)
        return self.cache[rev][0]

    def indexes(self, rev):
        self.columns(rev)
        return self.cache[rev][1]


def first_drift(truth, at, table, column, upto):
    """The first revision (up to `upto`) after which SQLite has table[.column]
    and miglint's replay does not."""
    for r in truth.order[: truth.order.index(upto) + 1]:
        real = truth.up.get(r)
        if real is None or table not in real["tables"]:
            continue
        if column and not any(c[0] == table and c[1] == column for c in real["columns"]):
            continue
        mine = at.columns(r)
        if table not in mine or (column and column not in mine[table]):
            return r
    return None


def first_index_drift(truth, at, index, upto):
    """The first revision after which SQLite has the index and miglint does not."""
    for r in truth.order[: truth.order.index(upto) + 1]:
        real = truth.up.get(r)
        if real and any(i[0] == index for i in real["indexes"]) and index not in at.indexes(r):
            return r
    return None


def cause_of(finding, truth, chain, rev, side, at):
    path = os.path.realpath(finding["path"])
    _, lines, _ = source(path)
    stmt = statement(lines, finding["line"])
    msg = finding["message"]

    if finding["rule"] == "downgrade-roundtrip":
        return "downgrade-roundtrip: real downgrade restores the schema"
    if finding["rule"] == "revision-chain":
        return "numbered file names read as the chain order (Alembic orders by down_revision)"
    cause = direct_cause(path, finding["line"], stmt, msg)
    if cause:
        return cause
    if finding["rule"] == "parse-error" and re.search(r"\bf[\"']|\+\s*[\"']|[\"']\s*\+|%\s*\(|\.format\(", stmt):
        return "SQL built by string formatting or concatenation"

    # The line is plain: miglint's replayed schema had drifted from SQLite's
    # before it. Find where the replay lost the table (or column), and why.
    kind, table, obj = claim(msg)
    if kind == "missing_constraint" and table in (truth.before_up(rev) if side == "up" else truth.before_down(rev))["tables"]:
        # SQLite keeps no constraint names miglint could read: batch mode
        # reflects the table and names the constraint by the naming_convention.
        return "constraint name miglint does not know (batch mode reflects it; naming_convention)"
    if table and table in truth.base_schema["tables"]:
        return "create_all baseline (tables made by metadata.create_all before the chain)"
    before = truth.before_up(rev) if side == "up" else truth.before_down(rev)
    after = truth.up.get(rev) if side == "up" else truth.down.get(rev)
    if kind == "missing_index":
        if not any(i[0] == obj for i in before["indexes"]):
            return "other: index really absent (finding looks true; step applied anyway)"
        lost = first_index_drift(truth, at, obj, rev if side == "up" else truth.last_applied())
        if lost:
            return "cascade: " + drift_cause_index(truth, lost, obj, at)
    if kind and kind.startswith("missing") and table and (table in before["tables"] or (after and table in after["tables"])):
        column = obj if kind == "missing_column" else None
        upto = rev if side == "up" else truth.last_applied()
        lost = first_drift(truth, at, table, column, upto) or first_drift(truth, at, table, None, upto)
        if lost:
            return "cascade: " + drift_cause(truth, lost, table, column, at)
        if table not in before["tables"]:  # made earlier in this same downgrade
            return "cascade: " + drift_cause(truth, rev, table, column, at)
        return "cascade: replay lost the object only on the way down"
    if kind and kind.startswith("present") and table and table not in before["tables"]:
        return "cascade: table dropped or renamed earlier by an op miglint did not follow"
    if finding["rule"] == "sqlite-exec":
        return "sqlite-exec: " + msg[:60]
    return "other"


def _calls_with_literal(tree, name):
    """Line numbers of the calls that take the string `name` as an argument,
    and of any other places the literal appears (a list, a dict, a tuple)."""
    calls, loose = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for a in list(node.args) + [k.value for k in node.keywords]:
                if isinstance(a, ast.Constant) and a.value == name:
                    calls.append((node.lineno, ast.unparse(node.func)))
        elif isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
            elts = node.elts if not isinstance(node, ast.Dict) else list(node.keys) + list(node.values)
            if any(isinstance(e, ast.Constant) and e.value == name for e in elts if e is not None):
                loose.append(node.lineno)
    return calls, loose


def _function_path(tree, line):
    """Names of the functions around a line, outermost first."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            names.append((node.lineno, node.name))
    return [n for _, n in sorted(names)]


def drift_cause(truth, lost, table, column, at=None, depth=0):
    """Why miglint's replay lacks table[.column] after revision `lost`."""
    path = os.path.realpath(os.path.join(CACHE, truth_files_rel(truth, lost)))
    _, lines, tree = source(path)
    name = column or table
    calls, loose = _calls_with_literal(tree, name) if tree else ([], [])
    # Only what the upgrade does can have made the object.
    calls = [(n, f) for n, f in calls if "downgrade" not in (enclosing(path, n)[0] or "")]
    maker_re = (r"add_column|alter_column|Column" if column else r"create_table|rename_table|Table$") \
        if table else r"create_index|Index"
    makers = [(n, f) for n, f in calls if re.search(maker_re, f)]
    for n, func in makers:
        cause = direct_cause(path, n, statement(lines, n), None)
        if cause:
            return cause
        funcs = _function_path(tree, n)
        if len(funcs) > 1 or (funcs and funcs[0] not in ("upgrade", "downgrade")):
            return "op inside a helper function of the revision (%s) that miglint does not follow" % funcs[-1]
    for n, func in makers:
        if func.endswith("rename_table") and depth < 3 and at is not None:
            node = next((c for c in ast.walk(tree) if isinstance(c, ast.Call) and c.lineno == n), None)
            old = node.args[0].value if node is not None and node.args and isinstance(node.args[0], ast.Constant) else None
            if old:
                earlier = first_drift(truth, at, old, None, lost)
                if earlier:
                    return drift_cause(truth, earlier, old, None, at, depth + 1)
    if loose and not makers:
        return "name from a data structure (loop over a list of names)"
    if makers:
        return "object made by an op miglint did not apply (%s)" % makers[0][1]
    if loose:
        return "name from a data structure (loop over a list of names)"
    text = source(path)[0]
    if "__tablename__" in text:
        return "table name from an ORM class attribute (Model.__tablename__)"
    if re.search(r"^\s*from (?!alembic|sqlalchemy|__future__|typing)[\w.]+ import", text, re.M):
        return "object made by a helper function from the project's own modules"
    return "object made by code miglint does not read (name built at run time)"


def drift_cause_index(truth, lost, index, at):
    """drift_cause() for an index name."""
    path = os.path.realpath(os.path.join(CACHE, truth_files_rel(truth, lost)))
    _, lines, tree = source(path)
    calls, _ = _calls_with_literal(tree, index) if tree else ([], [])
    for n, func in calls:
        if "downgrade" in (enclosing(path, n)[0] or ""):
            continue
        cause = direct_cause(path, n, statement(lines, n), None)
        if cause:
            return cause
        funcs = _function_path(tree, n)
        if len(funcs) > 1 or (funcs and funcs[0] not in ("upgrade", "downgrade")):
            return "op inside a helper function of the revision (%s) that miglint does not follow" % funcs[-1]
        return "object made by an op miglint did not apply (%s)" % func
    return "object made by code miglint does not read (name built at run time)"


def truth_files_rel(truth, rev):
    for p, r in truth.files.items():
        if r == rev:
            return os.path.relpath(p, CACHE)
    return ""


# ---------------------------------------------------------------------------
# Schema at head: miglint's replay against SQLite's
# ---------------------------------------------------------------------------


def norm_type(t):
    return re.sub(r"\s+", "", (t or "").upper())


# A declared type (as miglint reports it: SQLAlchemy's generic names or SQL)
# in PostgreSQL's format_type() spelling.
PG_TYPES = {
    "INTEGER": "integer", "INT": "integer", "INT4": "integer", "SERIAL": "integer",
    "BIGINT": "bigint", "INT8": "bigint", "BIGSERIAL": "bigint",
    "SMALLINT": "smallint", "INT2": "smallint", "SMALLSERIAL": "smallint",
    "VARCHAR": "character varying", "CHARACTERVARYING": "character varying",
    "CHAR": "character", "CHARACTER": "character", "TEXT": "text",
    "FLOAT": "double precision", "DOUBLE": "double precision", "DOUBLEPRECISION": "double precision",
    "FLOAT8": "double precision", "REAL": "real", "FLOAT4": "real",
    "BOOLEAN": "boolean", "BOOL": "boolean", "DATE": "date",
    "DATETIME": "timestamp without time zone", "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMPWITHOUTTIMEZONE": "timestamp without time zone",
    "TIMESTAMPTZ": "timestamp with time zone", "TIMESTAMPWITHTIMEZONE": "timestamp with time zone",
    "TIME": "time without time zone", "TIMETZ": "time with time zone",
    "TIMEWITHOUTTIMEZONE": "time without time zone", "TIMEWITHTIMEZONE": "time with time zone",
    "NUMERIC": "numeric", "DECIMAL": "numeric", "BLOB": "bytea", "BYTEA": "bytea",
    "LARGEBINARY": "bytea", "BINARY": "bytea", "VARBINARY": "bytea",
    "JSON": "json", "JSONB": "jsonb", "UUID": "uuid", "INTERVAL": "interval",
}


def pg_type(declared):
    """`declared` as PostgreSQL spells it, or None for a name this table
    does not know (an enum, a project's own TypeDecorator): not compared."""
    m = re.fullmatch(r"([A-Z0-9]+)(\(([^)]*)\))?(\[\])?", norm_type(declared))
    if not m or m.group(1) not in PG_TYPES:
        return None
    base, args, array = PG_TYPES[m.group(1)], m.group(3), m.group(4) or ""
    if m.group(1) == "FLOAT" and args:
        base = "real" if int(args) <= 24 else "double precision"
        args = None
    if args and base in ("integer", "bigint", "smallint", "text", "boolean", "date", "bytea", "json", "jsonb", "uuid"):
        args = None  # INTEGER(11) and the like: PostgreSQL has no length for them
    if args and base.startswith(("timestamp", "time ")):
        first, _, rest = base.partition(" ")
        return f"{first}({args}) {rest}{array}"
    return f"{base}({args}){array}" if args else f"{base}{array}"


def same_type(database_type, declared):
    """Whether miglint's type is the database's. On PostgreSQL, an enum
    type is not compared: miglint does not model them yet."""
    if DATABASE == "postgresql":
        if database_type.startswith("enum "):
            return True
        ours = pg_type(declared)
        return ours is None or ours == database_type
    return norm_type(database_type) == norm_type(declared)


def database_default(default):
    """A column default as the database holds it; a serial column's
    sequence is no default written by the migration."""
    if DATABASE == "postgresql" and default and default.startswith("nextval("):
        return None
    return default


def compare_schema(mig, real):
    """Counts of equal / different / one-side-only tables, columns, indexes,
    fks. A difference on what miglint marks uncertain (a table something it
    could not read touched, an index of one or whose name it could not know,
    a type it could not read, a table it says its list may lack) is no
    contradiction: it is listed as unknown."""
    out = {}
    unsure = {t["name"] for t in mig.get("tables", []) if t.get("uncertain")}
    unsure_ix = {i["name"] for i in mig.get("indexes", []) if i.get("uncertain")}
    mt = {t["name"]: t for t in mig.get("tables", [])}
    rt = set(real["tables"])
    out["tables"] = {"equal": len(rt & set(mt)), "only_database": sorted(rt - set(mt)),
                     "only_miglint": sorted(set(mt) - rt)}
    rcols = {(c[0], c[1]): c for c in real["columns"]}
    mcols = {}
    for t in mt.values():
        for c in t["columns"]:
            mcols[(t["name"], c["name"])] = c
    eq, diff, why, unknown_type = 0, [], collections.Counter(), []
    for key in set(rcols) & set(mcols):
        r, m = rcols[key], mcols[key]
        d = []
        # A type miglint says it cannot read is no claim: not compared.
        if m.get("type_unknown"):
            unknown_type.append(".".join(key))
        elif not same_type(r[2], m["type"]):
            d.append("type")
        if r[3] != (not m["nullable"]):
            d.append("nullable")
        if r[5] != bool(m["primary_key"]):
            d.append("pk")
        # So is a default miglint says it cannot read.
        if m.get("default_unknown"):
            unknown_type.append(".".join(key) + " default")
        elif (database_default(r[4]) is None) != (m["default"] is None):
            d.append("default")
        if d:
            diff.append([*key, d, [r[2], r[3], r[4], r[5]], [m["type"], not m["nullable"], m["default"], m["primary_key"]]])
            why.update(d)
        elif not m.get("type_unknown") and not m.get("default_unknown"):
            eq += 1
    both = rt & set(mt)
    out["columns"] = {
        "equal": eq, "different": len(diff), "different_by": dict(why), "examples": diff,
        "unknown": sorted(unknown_type),
        "only_database": sorted(".".join(k) for k in set(rcols) - set(mcols) if k[0] in both),
        "only_miglint": sorted(".".join(k) for k in set(mcols) - set(rcols) if k[0] in both),
    }
    rix = {(i[1], i[0]): i for i in real["indexes"]}
    mix = {(i["table"], i["name"]): i for i in mig.get("indexes", [])}
    # An index whose name miglint says it cannot know (a naming convention
    # it could not read) is no claim about the name: it stands for the
    # database's index of the same table, columns and uniqueness.
    unknown_name = []
    for key, m in list(mix.items()):
        if not m.get("name_unknown"):
            continue
        del mix[key]
        same = next((k for k, r in rix.items() if k[0] == m["table"] and k not in mix
                     and r[2] == m["columns"] and r[3] == m["unique"]), None)
        if same:
            del rix[same]
            unknown_name.append(".".join(same))
        else:
            mix[key] = m
    eq, diff = 0, []
    for key in set(rix) & set(mix):
        r, m = rix[key], mix[key]
        # Both sides' elements with any DESC left out: an index is the same
        # index whichever way it is ordered (the dumps of some databases
        # do not show the order).
        undesc = lambda cols: [c.replace(" DESC", "") for c in cols]  # noqa: E731
        if undesc(r[2]) == undesc(m["columns"]) and r[3] == m["unique"]:
            eq += 1
        else:
            diff.append([*key, [r[2], r[3]], [m["columns"], m["unique"]]])
    out["indexes"] = {"equal": eq, "different": len(diff), "examples": diff, "unknown": sorted(unknown_name),
                      "only_database": sorted(".".join(k) for k in set(rix) - set(mix)),
                      "only_miglint": sorted(".".join(k) for k in set(mix) - set(rix))}
    rfk = {(f[0], f[1], f[2], f[3]) for f in real["fks"]}
    mfk = set()
    for t in mt.values():
        for f in t.get("foreign_keys", []):
            for a, b in zip(f["columns"], f["ref_columns"] or [None] * len(f["columns"])):
                mfk.add((t["name"], a, f["ref_table"], b))
    out["fks"] = {"equal": len(rfk & mfk), "only_database": sorted(map(list, rfk - mfk)),
                  "only_miglint": sorted(map(list, mfk - rfk))}
    # A schema miglint says may lack tables: those only the database has,
    # and what is on them, are unknown to it.
    if mig.get("incomplete"):
        unsure |= rt - set(mt)
    return excuse_uncertain(out, unsure, unsure_ix)


def excuse_uncertain(out, unsure, unsure_ix):
    """Moves the differences on tables and indexes miglint marked uncertain
    from `out`'s differences to its `unknown` lists."""
    def on_unsure(what, item):
        if what == "tables":
            return item in unsure
        if what == "columns":
            return (item[0] if isinstance(item, list) else item.split(".")[0]) in unsure
        if what == "indexes":
            table, name = (item[0], item[1]) if isinstance(item, list) else item.split(".", 1)
            return table in unsure or name in unsure_ix
        return item[0] in unsure  # fks

    for what in ("tables", "columns", "indexes", "fks"):
        c = out[what]
        c.setdefault("unknown", [])
        for side in ("only_database", "only_miglint"):
            excused = [x for x in c[side] if on_unsure(what, x)]
            c[side] = [x for x in c[side] if not on_unsure(what, x)]
            c["unknown"] += [".".join(x) if isinstance(x, list) else x for x in excused]
        if "examples" in c:
            # `different` counts every difference; `examples` shows a few.
            excused = [x for x in c["examples"] if on_unsure(what, x)]
            c["examples"] = [x for x in c["examples"] if not on_unsure(what, x)]
            c["different"] -= len(excused)
            c["unknown"] += [".".join(x[:2]) for x in excused]
            c["examples"] = c["examples"][:8]
    return out


# model-drift findings, as the difference Alembic's autogenerate would name.
DRIFT_PATTERNS = [
    (re.compile(r"maps table `([^`]+)`, which no migration creates"), "add_table"),
    (re.compile(r"table `([^`]+)` is created by the migrations but no model maps it"), "remove_table"),
    (re.compile(r"maps column `([^`.]+)\.([^`]+)`, which the migrations never add"), "add_column"),
    (re.compile(r"column `([^`.]+)\.([^`]+)` is in the migrations but not in model"), "remove_column"),
    (re.compile(r"in the model but (?:NOT NULL|nullable) in the migrations"), "modify_nullable"),
    (re.compile(r"\) in the model but `[^`]*` \([^)]*\) in the migrations"), "modify_type"),
    (re.compile(r"no migration creates an index on|declares the index"), "add_index"),
    (re.compile(r"is a foreign key to .* in the model, but not in the migrations"), "add_fk"),
    (re.compile(r"index `[^`]+` on `[^`(]+\([^)]*\)` is in the migrations but not in model"), "remove_index"),
    (re.compile(r"foreign key `[^`]+` → `[^`]+` is in the migrations but not in model"), "remove_fk"),
    # An index the model names otherwise: autogenerate drops it and
    # creates the model's.
    (re.compile(r"is `index=True`, which names its index `[^`]+`, but the migrations name"), "add_index+remove_index"),
]


def judge_drift(diags, model_diffs):
    """model-drift held against compare_metadata: a table or column
    difference matches by name, the others by kind and count. `agree`,
    `only_miglint` (a difference Alembic does not see: false) and
    `only_alembic` (missed)."""
    ours = []
    for d in diags:
        if d["rule"] != "model-drift":
            continue
        for pattern, kinds in DRIFT_PATTERNS:
            m = pattern.search(d["message"])
            if m:
                ours.extend((kind, m.groups()) for kind in kinds.split("+"))
                break
        else:
            ours.append(("other", (d["message"][:80],)))
    theirs = [tuple(x) for x in model_diffs]
    agree, only_miglint = [], []
    left = list(theirs)
    for kind, names in ours:
        match = next((t for t in left if t[0] == kind and (
            not names or (kind.endswith("table") and t[1] == names[0])
            or (kind.endswith("column") and (t[1], t[2]) == names)
            or not (kind.endswith("table") or kind.endswith("column")))), None)
        if match:
            left.remove(match)
            agree.append([kind, *names])
        else:
            only_miglint.append([kind, *names])
    return {"agree": agree, "only_miglint": only_miglint, "only_alembic": [list(t) for t in left]}


def differences(cmp):
    """What a compare_schema result finds different, in a few words; empty
    when the two schemas agree."""
    out = []
    for what in ("tables", "columns", "indexes", "fks"):
        c = cmp[what]
        for side in ("only_database", "only_miglint"):
            if c.get(side):
                out.append(f"{what} {side.replace('_', ' ')}: {', '.join(map(str, c[side][:3]))}")
        if c.get("different"):
            out.append(f"{what} different: {c['examples'][:2]}")
    return out


def every_revision(binary, chain_id, truth):
    """miglint's schema against SQLite's after each revision Alembic applied."""
    r = subprocess.run([binary, "schema", "--config", "miglint.toml", "--format", "json", "--each"],
                       cwd=lint_dir(chain_id), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"miglint schema --each failed on {chain_id}: {r.stderr}")
    sets = json.loads(r.stdout)["sets"]
    ours = {step["at"]: step["schema"] for step in (sets[0]["revisions"] if sets else [])}
    compared, equal, agree, first = 0, 0, 0, None
    for rev in truth.order:
        if rev not in truth.up:
            continue
        compared += 1
        cmp = compare_schema(ours.get(rev, {"tables": [], "indexes": []}), truth.up[rev])
        found = differences(cmp)
        if found:
            first = first or {"at": rev, "differences": found[:4]}
        else:
            agree += 1
            equal += not any(cmp[what]["unknown"] for what in ("tables", "columns", "indexes"))
    # equal: every fact the same; agree: no fact miglint states is wrong
    # (it may say of some that it cannot know them).
    return {"compared": compared, "equal": equal, "agree": agree, "first_difference": first}


# Rules whose finding says a step cannot run as written: one of them at a
# step Alembic refused explains the refusal (a convention finding there,
# such as timestamp-columns, does not).
REFUSAL_RULES = TRUTH_RULES | {"downgrade-roundtrip", "batch-mode", "sqlite-alter-support", "rollback-required"}


def refusals(lint, truth):
    """Each step real Alembic refused, and what miglint says at that
    migration: the error-level rules that explain a refusal in the refused
    function (upgrade() or downgrade()), else a note on the file, else
    nothing (a miss)."""
    out = []
    for step in (truth.up_error, truth.down_error):
        if not step:
            continue
        path = next((p for p, r in truth.files.items() if r == step["rev"]), None)
        rules = set()
        for d in lint["diagnostics"]:
            if d["severity"] != "error" or os.path.realpath(d["path"]) != path:
                continue
            func, _ = enclosing(path, d["line"])
            side = "down" if func and "downgrade" in func else "up"
            if side == step["way"] and d["rule"] in REFUSAL_RULES:
                rules.add(d["rule"])
        noted = any(os.path.realpath(n["path"]) == path for n in lint.get("notes", []) if n.get("path"))
        out.append({
            "rev": step["rev"],
            "way": step["way"],
            "error": step["error"].splitlines()[0][:160],
            "reported_by": sorted(rules) or (["note"] if noted else []),
        })
    return out


# ---------------------------------------------------------------------------


def measure_chain(binary, project, chain, result):
    truth = Truth(result)
    write_config(project, chain, result.get("baseline_sql", ""))
    at = truth.last_applied()
    lint, mig_schema = run_miglint(binary, chain["id"], at if at != (truth.order[-1] if truth.order else None) else None)
    diags = lint["diagnostics"]
    by_rule = collections.Counter(f"{d['rule']} ({d['severity']})" for d in diags)
    judged = collections.Counter()
    causes = collections.defaultdict(list)
    true_examples = []
    at_rev = MiglintAt(binary, chain["id"])
    for d in diags:
        if d["severity"] != "error":
            continue
        chain_rule = d["rule"] == "revision-chain" and "skips" in d["message"]
        if d["rule"] not in TRUTH_RULES and d["rule"] != "downgrade-roundtrip" and not chain_rule:
            continue
        if chain_rule:  # Alembic's graph has this edge: the chain is what the file says
            verdict, rev, side = "false", truth.files.get(os.path.realpath(d["path"])), "up"
        else:
            verdict, rev, side = judge(d, truth, chain)
        judged[(d["rule"], verdict)] += 1
        rel = os.path.relpath(d["path"], CACHE)
        lines = source(os.path.realpath(d["path"]))[1]
        line = lines[d["line"] - 1].strip() if d["line"] <= len(lines) else ""
        example = {"rule": d["rule"], "at": f"{rel}:{d['line']}", "source": line[:160], "message": d["message"][:200]}
        if verdict == "false":
            causes[cause_of(d, truth, chain, rev, side, at_rev)].append(example)
        elif verdict == "true":
            true_examples.append(example)
    real_head = truth.up.get(at) if at else truth.empty
    return {
        "findings_by_rule": dict(sorted(by_rule.items())),
        "summary": lint["summary"],
        "judged": {f"{r} {v}": n for (r, v), n in sorted(judged.items())},
        "false_total": sum(n for (r, v), n in judged.items() if v == "false"),
        "true_total": sum(n for (r, v), n in judged.items() if v == "true"),
        "unverified_total": sum(n for (r, v), n in judged.items() if v == "unverified"),
        "false_causes": {c: {"count": len(v), "examples": v[:2]} for c, v in
                         sorted(causes.items(), key=lambda kv: -len(kv[1]))},
        "true_examples": true_examples[:4],
        "false_findings": [dict(e, cause=c) for c, v in causes.items() for e in v],
        "schema_compared_at": at,
        "schema": compare_schema(mig_schema, real_head or truth.empty),
        "revisions": every_revision(binary, chain["id"], truth),
        "model_drift": judge_drift(diags, result["model_diffs"]) if result.get("model_diffs") is not None else None,
        "refusals": refusals(lint, truth),
    }


def markdown(report):
    DB = DATABASE_NAME[DATABASE]
    out = [f"# miglint against real Alembic on {DB}\n"]
    totals = collections.Counter()
    for cid, r in report.items():
        out.append(f"## {cid}\n")
        out.append(f"findings: {r['summary']}  \nby rule: " + ", ".join(f"{k}: {v}" for k, v in r["findings_by_rule"].items()))
        out.append(f"\njudged against Alembic: {r['false_total']} false, {r['true_total']} true, "
                   f"{r['unverified_total']} unverified ({', '.join(f'{k}: {v}' for k, v in r['judged'].items())})\n")
        for c, v in r["false_causes"].items():
            totals[c] += v["count"]
            out.append(f"- **{c}**: {v['count']}")
            for e in v["examples"]:
                out.append(f"  - `{e['at']}` `{e['source']}` ({e['rule']}: {e['message']})")
        s = r["schema"]
        out.append(f"\nschema at {r['schema_compared_at']}: tables equal {s['tables']['equal']}, only {DB} "
                   f"{len(s['tables']['only_database'])}, only miglint {len(s['tables']['only_miglint'])}; columns equal "
                   f"{s['columns']['equal']}, different {s['columns']['different']} {s['columns']['different_by']}, only {DB} "
                   f"{len(s['columns']['only_database'])}, only miglint {len(s['columns']['only_miglint'])}; indexes equal "
                   f"{s['indexes']['equal']}, different {s['indexes']['different']}, only {DB} {len(s['indexes']['only_database'])}, "
                   f"only miglint {len(s['indexes']['only_miglint'])}; fks equal {s['fks']['equal']}, only {DB} "
                   f"{len(s['fks']['only_database'])}, only miglint {len(s['fks']['only_miglint'])}; unknown to miglint: "
                   f"tables {len(s['tables']['unknown'])}, column types or defaults {len(s['columns']['unknown'])}, "
                   f"index names {len(s['indexes']['unknown'])}\n")
        md = r.get("model_drift")
        if md:
            out.append(f"model-drift against Alembic's compare_metadata: {len(md['agree'])} agree, "
                       f"{len(md['only_miglint'])} only miglint {md['only_miglint'][:4]}, "
                       f"{len(md['only_alembic'])} only Alembic {md['only_alembic'][:4]}\n")
        for x in r["refusals"]:
            by = ", ".join(x["reported_by"]) or "nothing (missed)"
            out.append(f"Alembic refused {x['way']} {x['rev']} ({x['error']}): reported by {by}\n")
        rv = r["revisions"]
        line = (f"schema after each revision: {rv['equal']} of {rv['compared']} equal to {DB}'s, "
                f"{rv['agree']} with no fact miglint states contradicted")
        if rv["first_difference"]:
            fd = rv["first_difference"]
            line += f"; first difference after {fd['at']}: " + "; ".join(fd["differences"])
        out.append(line + "\n")
    out.append("## false findings by cause, all chains\n")
    out += [f"- {c}: {n}" for c, n in totals.most_common()]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alembic", default=os.path.join(CACHE, "alembic.json"))
    ap.add_argument("--miglint", default=os.environ.get("MIGLINT", os.path.join(ROOT, "target", "release", "miglint")))
    ap.add_argument("--out", default=os.path.join(CACHE, "measure.json"))
    ap.add_argument("--markdown")
    ap.add_argument("--only", action="append")
    ap.add_argument("--database", choices=sorted(DATABASE_NAME), default="sqlite",
                    help="the database run.py ran the chains on (its --postgres): miglint is told "
                    "that dialect, and types are compared in that database's spelling")
    ap.add_argument("--check", help="hold the run against this expectation file")
    ap.add_argument("--update", help="write this run's expectations to this file")
    args = ap.parse_args()
    args.miglint = os.path.abspath(args.miglint)
    global DATABASE
    DATABASE = args.database
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)
    with open(args.alembic) as f:
        alembic = json.load(f)
    report = {}
    for project in manifest["projects"]:
        for chain in project["chains"]:
            if args.only and chain["id"] not in args.only and project["package"] not in args.only:
                continue
            if DATABASE == "postgresql" and not chain.get("postgresql"):
                continue
            if chain["id"] not in alembic:
                print(f"{chain['id']}: not in {args.alembic}; run run.py first", file=sys.stderr)
                continue
            r = measure_chain(args.miglint, project, chain, alembic[chain["id"]])
            report[chain["id"]] = r
            print(f"{chain['id']:14} {r['summary']['errors']:4} errors  judged: {r['false_total']:4} false "
                  f"{r['true_total']:3} true {r['unverified_total']:4} unverified", flush=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(report))
    expected = {cid: expectation(r) for cid, r in report.items()}
    if args.update:
        with open(args.update, "w") as f:
            json.dump(expected, f, indent=1, sort_keys=True)
            f.write("\n")
    if args.check:
        with open(args.check) as f:
            recorded = json.load(f)
        problems = compare(recorded, expected)
        for p in problems:
            print(f"realworld: {p}", file=sys.stderr)
        if problems:
            print(f"realworld: {len(problems)} difference(s) from {args.check}; "
                  "if the change is right, rerun with --update and review the diff", file=sys.stderr)
            sys.exit(1)
        print(f"realworld: {len(expected)} chains as expected: "
              f"{sum(e['false'] for e in expected.values())} false, "
              f"{sum(e['true'] for e in expected.values())} true error findings")


def expectation(r):
    """What --check holds a chain to."""
    s = r["schema"]
    return {
        "findings_by_rule": r["findings_by_rule"],
        "false": r["false_total"],
        "true": r["true_total"],
        "schema_equal": {
            "tables": s["tables"]["equal"],
            "columns": s["columns"]["equal"],
            "indexes": s["indexes"]["equal"],
            "fks": s["fks"]["equal"],
        },
        "revisions_equal": r["revisions"]["equal"],
        "revisions_agree": r["revisions"]["agree"],
        "refusals_reported": sum(1 for x in r["refusals"] if x["reported_by"]),
        "refusals_missed": [f"{x['way']} {x['rev']}: {x['error']}" for x in r["refusals"] if not x["reported_by"]],
        **({"model_drift": {"agree": len(r["model_drift"]["agree"]),
                            "only_miglint": len(r["model_drift"]["only_miglint"])}}
           if r.get("model_drift") else {}),
    }


def compare(recorded, now):
    """Differences that are regressions, or changes to review."""
    DB = DATABASE_NAME[DATABASE]
    problems = []
    for cid in sorted(set(recorded) | set(now)):
        if cid not in now:
            problems.append(f"{cid}: no longer measured")
            continue
        if cid not in recorded:
            problems.append(f"{cid}: not in the expectation file")
            continue
        a, b = recorded[cid], now[cid]
        if b["false"] > a["false"]:
            problems.append(f"{cid}: {b['false']} false error findings, was {a['false']}")
        if b["true"] < a["true"]:
            problems.append(f"{cid}: {b['true']} true error findings, was {a['true']}")
        for what, n in a["schema_equal"].items():
            if b["schema_equal"][what] < n:
                problems.append(f"{cid}: {b['schema_equal'][what]} {what} equal to {DB}'s, was {n}")
        if "model_drift" in a or "model_drift" in b:
            before, after = a.get("model_drift", {}), b.get("model_drift", {})
            if after.get("only_miglint", 0) > before.get("only_miglint", 0):
                problems.append(f"{cid}: {after.get('only_miglint')} model-drift findings Alembic's "
                                f"compare_metadata does not see, was {before.get('only_miglint', 0)}")
            if after.get("agree", 0) < before.get("agree", 0):
                problems.append(f"{cid}: {after.get('agree', 0)} model-drift findings agree with "
                                f"compare_metadata, was {before.get('agree')}")
        if b["refusals_reported"] < a.get("refusals_reported", 0):
            problems.append(f"{cid}: {b['refusals_reported']} steps real Alembic refused are reported, "
                            f"was {a['refusals_reported']} (missed: {'; '.join(b['refusals_missed'])})")
        if b["revisions_equal"] < a.get("revisions_equal", 0):
            problems.append(f"{cid}: the schema agrees with {DB}'s after {b['revisions_equal']} revisions, "
                            f"was {a['revisions_equal']}")
        if b["revisions_agree"] < a.get("revisions_agree", 0):
            problems.append(f"{cid}: no fact miglint states contradicts {DB}'s after {b['revisions_agree']} "
                            f"revisions, was {a['revisions_agree']}")
        if a["findings_by_rule"] != b["findings_by_rule"]:
            rules = sorted(set(a["findings_by_rule"]) | set(b["findings_by_rule"]))
            changed = [f"{r}: {a['findings_by_rule'].get(r, 0)} -> {b['findings_by_rule'].get(r, 0)}"
                       for r in rules if a["findings_by_rule"].get(r) != b["findings_by_rule"].get(r)]
            problems.append(f"{cid}: findings changed ({'; '.join(changed)})")
    return problems


if __name__ == "__main__":
    main()
