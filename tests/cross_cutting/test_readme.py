"""README and the code agree: every setting config.py reads (and every Makefile variable) has a row
in README's configuration table, and every row is read somewhere; its examples' files are the ones
in docs/, and the worked example's member does not collide with the example waitlist."""

from __future__ import annotations

import ast
import csv
import json
import re
from pathlib import Path

import phonenumbers

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
READERS = {"os.environ.get", "os.environ.setdefault", "os.getenv", "_env_int", "_env_list"}
# Where settings may be read: the app's config, and gunicorn's (the web server's own settings).
CONFIG_FILES = ("config.py", "gunicorn.conf.py")


def settings_read(source: str) -> set[str]:
    """The environment variables a module reads; a per-language family as PREFIX<LANG>."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            names.add(ast.literal_eval(node.slice))
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        if ast.unparse(node.func) in READERS:
            names.add(node.args[0].value)
        elif ast.unparse(node.func) == "_env_by_language":
            names.add(f"{node.args[0].value}<LANG>")
    return names


def makefile_variables() -> set[str]:
    return set(re.findall(r"^(\w+) \?=", (REPO / "Makefile").read_text(), re.MULTILINE))


def documented() -> set[str]:
    """The names in the first cell of each row of README's configuration table."""
    section = README[README.index("## Configuration") : README.index("## The admin API")]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", row.split("|")[1])}


def test_every_setting_config_reads_is_in_the_readme_table():
    read = settings_read((REPO / "config.py").read_text())
    assert {
        "OPENAPI_SWAGGER_UI_URL",
        "DISPATCH_THREADS",
        "IMPORT_DATE_FORMAT",
        "CRISIS_LINE_TEXT_<LANG>",
    } <= read
    assert sorted(read - documented()) == []


def test_every_makefile_variable_is_in_the_readme_table():
    assert {"PORT", "WEB_WORKERS"} <= makefile_variables()
    assert sorted(makefile_variables() - documented()) == []


def test_every_row_of_the_table_is_a_setting_that_is_read():
    read = set().union(*(settings_read((REPO / name).read_text()) for name in CONFIG_FILES))
    assert sorted(documented() - read - makefile_variables()) == []


def test_every_setting_gunicorn_reads_is_in_the_readme_table():
    assert sorted(settings_read((REPO / "gunicorn.conf.py").read_text()) - documented()) == []


def test_only_config_reads_the_environment():
    for path in (REPO / "ipt_groups").rglob("*.py"):
        assert settings_read(path.read_text()) == set(), path


def test_the_planning_example_is_the_file_in_docs():
    block = README[README.index("`docs/plan-example.json`:") :]
    block = block[block.index("```json") + len("```json") : block.index("```", block.index("```json") + 7)]
    assert json.loads(block) == json.loads((REPO / "docs" / "plan-example.json").read_text())


def test_the_worked_examples_member_is_not_in_the_example_waitlist():
    example = README[README.index("A worked example with the demo token") :]
    phone = re.search(r'"phone": "([^"]+)"', example).group(1)

    def e164(text: str) -> str:
        return phonenumbers.format_number(phonenumbers.parse(text, "US"), phonenumbers.PhoneNumberFormat.E164)

    with (REPO / "docs" / "waitlist-example.csv").open(encoding="utf-8", newline="") as f:
        phones = {e164(row["phone"]) for row in csv.DictReader(f)}
    assert e164(phone) not in phones


def test_every_dependency_is_named_in_the_readme():
    """README says why each library is here: every requirement, runtime and development, is named."""
    section = README.split("## Dependencies", 1)[1].split("\n## ", 1)[0].lower()
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO / name).read_text().splitlines():
            requirement = re.match(r"[A-Za-z0-9_.-]+", line.split("#")[0].strip())
            if requirement and not line.startswith("-r"):
                library = requirement.group()
                assert library.lower() in section, f"{library} ({name}) is not in README"
