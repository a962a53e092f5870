"""The settings tables are the one definition of every setting: each entry reaches the
command line, the job loader, ``zmr.Step``, ``JobOptions``, config parsing and the docs
without being listed anywhere else. Every test loops over the tables, so a new entry is
covered (and must work everywhere) the moment it is added."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from zmr import Step
from zmr.cli.main import build_parser
from zmr.config import load_config
from zmr.core.errors import ConfigError, JobDefinitionError
from zmr.job.loader import load_runnable
from zmr.settings import docs
from zmr.settings.cluster import CLUSTER_SETTINGS
from zmr.settings.job import MODULE_SETTINGS, OPTION_SETTINGS, STEP_SETTINGS, JobOptions
from zmr.settings.setting import Setting
from zmr.settings.values import size

ROOT = pathlib.Path(__file__).parents[2]
FLAGGED = [s for s in OPTION_SETTINGS if s.flag]
#: Hook settings have no default to reuse; these are valid for a module with only a mapper.
HOOK_SAMPLES = {"COMBINER": "none", "REDUCE": "sum"}


def _valid(setting: Setting):
    """A value the setting accepts, other than "not given"."""
    if setting.module in HOOK_SAMPLES:
        return HOOK_SAMPLES[setting.module]
    if setting.default is not None:
        return setting.default
    if setting.check is size:
        return "8MB"
    return {list: [], dict: {}, int: 1}[setting.types[0]]


def _wrong(setting: Setting):
    return next(v for v in (2.5, "wrong") if not setting.accepts(v))


def _flag_value(setting: Setting) -> str:
    """A value given on the command line, unlike the default."""
    if setting.choices:
        return setting.choices[-1]
    if setting.name == "params":
        return "size=8MB"
    if setting.name == "input_format":     # no fixed choices: it also takes fixed:N
        return "fixed:100"
    return "3" if setting.types == (int,) else "8MB"


@pytest.mark.parametrize("command", ["run", "submit"])
def test_every_job_flag_is_in_the_help(command, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    shown = capsys.readouterr().out
    missing = [flag for s in FLAGGED for flag in s.flag if flag not in shown]
    assert missing == []


@pytest.mark.parametrize("setting", FLAGGED, ids=lambda s: s.name)
def test_every_job_flag_becomes_its_option(setting):
    argv = ["run", "job.py", "--input", "in", "--output", "out", setting.flag[0]]
    if setting.types != (bool,):
        argv.append(_flag_value(setting))
    options = JobOptions.from_args(build_parser().parse_args(argv))
    given = [argv[-1]] if list in setting.types else argv[-1]    # repeatable: a list
    expected = True if setting.types == (bool,) else setting.parse(
        int(argv[-1]) if setting.types == (int,) else given, "test")
    assert getattr(options, setting.name) == expected
    assert JobOptions.from_args(build_parser().parse_args(argv[:6])) == JobOptions()


@pytest.mark.parametrize("name", list(MODULE_SETTINGS))
def test_every_module_setting_is_accepted_and_type_checked_at_load(tmp_path, name):
    setting = MODULE_SETTINGS[name]
    good = tmp_path / "good.py"
    good.write_text(f"def mapper(k, v):\n    yield k, v\n{name} = {_valid(setting)!r}\n")
    assert load_runnable(str(good)).settings[name] == _valid(setting)
    bad = tmp_path / "bad.py"
    bad.write_text(f"def mapper(k, v):\n    yield k, v\n{name} = {_wrong(setting)!r}\n")
    with pytest.raises(JobDefinitionError, match=rf"{bad}: setting {name} = .* has the wrong "
                                                 "type"):
        load_runnable(str(bad))


def test_a_module_value_is_checked_by_its_rule_at_load(tmp_path):
    job = tmp_path / "neg.py"
    job.write_text("def mapper(k, v):\n    yield k, v\nNUM_REDUCERS = -1\n")
    with pytest.raises(JobDefinitionError, match=rf"{job}: setting NUM_REDUCERS must be an "
                                                 "integer >= 0, got -1"):
        load_runnable(str(job))


@pytest.mark.parametrize("keyword", list(STEP_SETTINGS))
def test_every_step_keyword_is_the_module_setting(keyword):
    setting = STEP_SETTINGS[keyword]
    step = Step(mapper=print, **{keyword: _valid(setting)})
    assert step.definitions()[setting.module] == _valid(setting)


def test_an_unknown_step_keyword_is_refused_at_once():
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_reducer'"):
        Step(mapper=print, num_reducer=2)


def test_precedence_is_given_then_module_setting_then_default():
    module = {"NUM_REDUCERS": 3, "SPLIT_SIZE": "1MB"}
    assert JobOptions().resolved(module).reducers == 3
    assert JobOptions(reducers=5).resolved(module).reducers == 5
    assert JobOptions(reducers=0).resolved(module).reducers == 0      # 0 is given, not None
    assert JobOptions().resolved(module).split_size == 1 << 20
    defaults = JobOptions().resolved()
    for setting in OPTION_SETTINGS:
        default = setting.default
        expected = None if default is None else setting.parse(default, setting.name)
        assert getattr(defaults, setting.name) == expected, setting.name


@pytest.mark.parametrize("setting", OPTION_SETTINGS, ids=lambda s: s.name)
def test_every_option_is_a_keyword_checked_under_its_name(setting):
    assert getattr(JobOptions().with_values(**{setting.name: _valid(setting)}),
                   setting.name) == setting.parse(_valid(setting), setting.name)
    with pytest.raises(ConfigError, match=rf"^{setting.name} must be"):
        JobOptions(**{setting.name: _wrong(setting)})


def test_bad_keyword_values_name_the_keyword():
    with pytest.raises(ConfigError, match="split_size: cannot read 'lots' as a size"):
        JobOptions(split_size="lots")
    with pytest.raises(TypeError, match="reducerz"):
        JobOptions().with_values(reducerz=2)


@pytest.mark.parametrize("setting", CLUSTER_SETTINGS, ids=lambda s: s.key)
def test_every_cluster_key_is_read_from_toml_and_type_checked(tmp_path, setting):
    path = tmp_path / "c.toml"
    toml = '"x"' if str not in setting.types else "3"
    path.write_text(f"[{setting.section}]\n{setting.name} = {toml}\n")
    with pytest.raises(ConfigError, match=rf"{path}: \[{setting.section}\] {setting.name} "
                                          f"must be {setting.type_names}"):
        load_config(str(path))
    default = setting.default
    path.write_text(f"[{setting.section}]\n{setting.name} = "
                    f"{str(default).lower() if isinstance(default, bool) else repr(default)}\n")
    section = getattr(load_config(str(path)), str(setting.section))
    assert getattr(section, setting.name) == default


def test_the_documented_tables_are_the_generated_ones():
    readme = (ROOT / "docs/reference/settings.md").read_text(encoding="utf-8")
    assert docs.rewrite(readme) == readme, f"stale settings tables: run {docs.COMMAND}"
    for setting in (*OPTION_SETTINGS, *CLUSTER_SETTINGS):
        assert f"`{setting.key}`" in readme


def test_a_missing_marker_is_an_error():
    with pytest.raises(ValueError, match="no generated block 'job settings'"):
        docs.rewrite("# a README without the tables\n")


def test_the_command_prints_and_checks_the_tables(tmp_path):
    printed = subprocess.run([sys.executable, "-m", "zmr.settings", "--markdown"],
                             capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert printed == docs.markdown()
    stale = tmp_path / "README.md"
    stale.write_text(printed.replace("| 5570 |", "| 5571 |"))
    check = [sys.executable, "-m", "zmr.settings", "--check", str(stale)]
    assert subprocess.run(check, capture_output=True, cwd=ROOT).returncode == 1
    subprocess.run([sys.executable, "-m", "zmr.settings", "--write", str(stale)], check=True,
                   cwd=ROOT)
    assert stale.read_text() == printed
