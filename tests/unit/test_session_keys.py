"""The keys of the session's values are written once, in dashboard/session/keys.py, each owned by one page or
component: every page and component is read with ``ast`` (as tests/unit/test_layers.py reads imports), and
a key named as a string of its own there, or another file's key used, fails."""

import ast
import inspect
from pathlib import Path

from dashboard.session import keys

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "dashboard"
SESSION = DASHBOARD / "session"
# The files that name keys: the pages, their parts and the app around them (not the session package,
# which owns the session's state and reads the shared keys for the others).
FILES = sorted([*(DASHBOARD / "views").glob("*.py"), *(DASHBOARD / "components").glob("*.py"), DASHBOARD / "app.py"])
# The session's functions that take a key: which arguments are keys.
KEYED = {
    "widget_value": 1,
    "set_widget_value": 1,
    "default_widget_value": 1,
    "reset_widgets": None,  # every one, and ``prefix``
    "leave_message": 1,
    "take_message": 1,
    "is_new_click": 1,
    "import_outcome": 1,
    "set_import_outcome": 1,
}
CLASSES = {name: cls for name, cls in vars(keys).items() if inspect.isclass(cls) and cls.__module__ == keys.__name__}
OWNED = {name: cls for name, cls in CLASSES.items() if hasattr(cls, "OWNER")}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def string_parts(node: ast.AST) -> list[str]:
    """The literal text in an expression that makes a key: a string, an f-string's text, a sum's strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.BinOp):
        return string_parts(node.left) + string_parts(node.right)
    return []


def key_arguments(call: ast.Call, name: str) -> list[ast.AST]:
    count = KEYED[name]
    args = list(call.args) if count is None else call.args[:count]
    return args + [k.value for k in call.keywords if k.arg in ("key", "prefix", "name", "chart_key", "kind")]


def session_function(node: ast.AST) -> str | None:
    """``session.widget_value`` (or the bare name, imported) → "widget_value"."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "session":
        return node.attr if node.attr in KEYED else None
    if isinstance(node, ast.Name) and node.id in KEYED:
        return node.id
    return None


def key_values() -> dict[str, str]:
    """Every key (and prefix of keys) keys.py writes, by the class attribute that holds it."""
    values = {}
    for name, cls in CLASSES.items():
        for attr, value in vars(cls).items():
            if isinstance(value, str) and attr.isupper() and attr != "OWNER":
                values[f"{name}.{attr}"] = value
    return values


def test_pages_and_components_name_no_key_as_a_string():
    offenders = []
    for path in FILES:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.Call) and (name := session_function(node.func)):
                for arg in key_arguments(node, name):
                    if string_parts(arg):
                        offenders.append(f"{relative(path)}:{node.lineno}: {name}({ast.unparse(arg)})")
    assert offenders == [], "name the key from dashboard/session/keys.py (the class of this page or component)"


def test_the_keyed_functions_are_called_not_passed_round():
    """``value = session.widget_value`` and then ``value("nc_title")`` would hide the key from the scan."""
    offenders = []
    for path in FILES:
        module = tree(path)
        called = {id(node.func) for node in ast.walk(module) if isinstance(node, ast.Call)}
        offenders += [
            f"{relative(path)}:{node.lineno}: {ast.unparse(node)}"
            for node in ast.walk(module)
            if session_function(node) and id(node) not in called and not isinstance(node.ctx, ast.Store)
        ]
    assert offenders == []


def test_no_page_or_component_writes_a_key_of_keys_py_again():
    """A widget's ``key=`` (or any other string) that spells out a key of keys.py, or starts with one of its
    prefixes, is a second place for it: use the constant."""
    values = key_values()
    whole = {value: attr for attr, value in values.items()}
    prefixes = {value: attr for attr, value in values.items() if attr.endswith("PREFIX")}
    offenders = []
    for path in FILES:
        for node in ast.walk(tree(path)):
            if isinstance(node, (ast.JoinedStr, ast.BinOp)):
                parts = string_parts(node)[:1]  # the head: where a prefix stands
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts = [node.value]
            else:
                continue
            for text in parts:
                if text in whole:
                    offenders.append(f"{relative(path)}:{node.lineno}: {text!r} is {whole[text]}")
                offenders += [
                    f"{relative(path)}:{node.lineno}: {text!r} starts with {attr}"
                    for prefix, attr in prefixes.items()
                    if text.startswith(prefix) and text != prefix
                ]
    assert offenders == []


def test_each_page_or_component_uses_only_its_own_keys():
    """A key shared with another file is read or set through a function of the session package (for
    example ``session.show_chosen_dataset``), never through the owner's class."""
    owners = {name: cls.OWNER for name, cls in OWNED.items()}
    assert all((ROOT / owner).is_file() for owner in owners.values()), owners
    offenders = []
    for path in FILES:
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module == "dashboard.session.keys":
                offenders.append(f"{relative(path)}:{node.lineno}: import the module (keys.Page.KEY), not its names")
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "keys"
                and node.attr in owners
                and owners[node.attr] != relative(path)
            ):
                offenders.append(f"{relative(path)}:{node.lineno}: keys.{node.attr} belongs to {owners[node.attr]}")
    assert offenders == []


def test_every_key_is_written_once_and_is_no_key_of_the_session_itself():
    values = key_values()
    seen: dict[str, str] = {}
    twice = []
    for attr, value in values.items():
        if value in seen:
            twice.append(f"{attr} and {seen[value]} are both {value!r}")
        seen[value] = attr
    assert twice == []
    # The session package's own keys (module constants such as identity.py's "_user_id") are other keys.
    own = {}
    for path in sorted(SESSION.glob("*.py")):
        if path.name == "keys.py":
            continue
        for node in tree(path).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.lstrip("_").isupper():
                        own[node.value.value] = f"{relative(path)}: {target.id}"
    assert {value: own[value] for value in own if value in seen} == {}


def test_every_owner_uses_its_keys():
    """An owner that no longer uses its class (the widget moved, or went) leaves keys.py stale."""
    unused = [
        f"keys.{name} ({cls.OWNER})"
        for name, cls in OWNED.items()
        if f"keys.{name}." not in (ROOT / cls.OWNER).read_text()
    ]
    assert unused == []


def test_a_challenge_form_is_the_same_fields_under_its_prefix():
    new, edit = keys.Teacher.NEW_CHALLENGE, keys.Teacher.edit("AB12")
    assert new.title == "nc_title" and edit.max_params == "ed_AB12_max_params"
    assert len(set(new) | set(edit)) == 2 * len(keys.ChallengeForm._fields)
