"""The preparation guides (bot/guides.toml): the shipped file loads and fits Slack, and a
broken file is refused with a message naming the file, the guide and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.guides import (
    AUDIENCES,
    SECTION_MAX,
    Guide,
    GuideError,
    load_guides,
    parse_guides,
)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "bot" / "guides.toml"


def _guides(junior: str | None = None, leader: str | None = None, extra: str = "") -> str:
    default = 'title = "A guide"\nsections = ["Listen first."]\n'
    text = ""
    if junior != "":
        text += "[junior]\n" + (junior if junior is not None else default)
    if leader != "":
        text += "\n[leader]\n" + (leader if leader is not None else default)
    return text + extra


# --- the shipped guides --------------------------------------------------------------------


def test_the_shipped_guides_load_for_both_audiences():
    guides = load_guides()
    assert set(guides) == set(AUDIENCES) == {"junior", "leader"}
    for audience, guide in guides.items():
        assert isinstance(guide, Guide) and guide.audience == audience
        assert guide.title and guide.sections
        assert all(0 < len(section) <= SECTION_MAX for section in guide.sections)
    # The junior's is the practical one; the leader's is shorter.
    assert len(guides["leader"].sections) < len(guides["junior"].sections)
    assert sum(map(len, guides["leader"].sections)) < sum(map(len, guides["junior"].sections))


def test_the_shipped_file_is_what_is_loaded():
    assert load_guides(SHIPPED) == load_guides() == load_guides(str(SHIPPED))
    raw = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    assert load_guides()["junior"].sections == tuple(s.strip() for s in raw["junior"]["sections"])


def test_the_junior_guide_covers_what_the_program_promised():
    text = "\n".join(load_guides()["junior"].sections).lower()
    for subject in (
        "first conversation",
        "feedback",
        "cancels twice",
        "confidentiality",
        "/mentor",
        "admins",
        "not to know everything",
    ):
        assert subject in text, subject
    leader = "\n".join(load_guides()["leader"].sections).lower()
    for subject in ("listen first", "ask rather than tell", "lead", "confidentiality"):
        assert subject in leader, subject


# --- a broken file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("[junior\ntitle = 1\n", "not valid TOML: ", id="not-toml"),
        pytest.param(_guides(leader=""), "missing the [leader] guide", id="missing-guide"),
        pytest.param(_guides(junior="", leader=""), "missing the [junior] guide", id="empty"),
        pytest.param(
            _guides(extra='\n[manager]\ntitle = "x"\n'),
            "unknown top-level key 'manager'",
            id="unknown-guide",
        ),
        pytest.param(
            _guides(junior='sections = ["a"]\n'), "[junior]: missing field 'title'", id="no-title"
        ),
        pytest.param(
            _guides(junior='title = "  "\nsections = ["a"]\n'),
            "[junior]: field 'title' is empty",
            id="empty-title",
        ),
        pytest.param(
            _guides(leader='title = "x"\n'), "[leader]: missing field 'sections'", id="no-sections"
        ),
        pytest.param(
            _guides(leader='title = "x"\nsections = []\n'),
            "[leader]: field 'sections' is empty",
            id="no-section",
        ),
        pytest.param(
            _guides(leader='title = "x"\nsections = "one"\n'),
            "[leader]: field 'sections' must be a list of texts",
            id="sections-not-a-list",
        ),
        pytest.param(
            _guides(junior='title = "x"\nsections = ["Fine.", "   \\n "]\n'),
            "[junior]: section 2 is empty",
            id="empty-section",
        ),
        pytest.param(
            _guides(junior='title = "x"\nsections = ["Fine.", 3]\n'),
            "[junior]: section 2 must be a string, not int",
            id="section-not-text",
        ),
        pytest.param(
            _guides(junior=f'title = "x"\nsections = ["{"a" * (SECTION_MAX + 1)}"]\n'),
            f"[junior]: section 1 is {SECTION_MAX + 1} characters; keep it to {SECTION_MAX}",
            id="too-long-section",
        ),
        pytest.param(
            _guides(junior='title = "x"\nsections = ["a"]\nintro = "b"\n'),
            "[junior]: unknown field 'intro'",
            id="unknown-field",
        ),
        pytest.param('junior = "x"\n' + _guides(junior=""), "[junior]: must be a table", id="flat"),
    ],
)
def test_a_broken_file_is_refused_naming_the_problem(text, fragment):
    with pytest.raises(GuideError) as caught:
        parse_guides(text, source="bot/guides.toml")
    message = str(caught.value)
    assert fragment in message
    assert all(line.startswith("bot/guides.toml: ") for line in message.splitlines())
    assert isinstance(caught.value, ValueError)


def test_a_section_at_the_limit_is_accepted():
    text = _guides(junior=f'title = "x"\nsections = ["{"a" * SECTION_MAX}"]\n')
    assert parse_guides(text)["junior"].sections == ("a" * SECTION_MAX,)


def test_every_problem_is_reported_at_once():
    text = _guides(junior='title = ""\nsections = []\n', leader="")
    with pytest.raises(GuideError) as caught:
        parse_guides(text)
    assert caught.value.problems == (
        "[junior]: field 'title' is empty",
        "[junior]: field 'sections' is empty; add at least one section",
        "missing the [leader] guide",
    )


def test_load_guides_names_the_file(tmp_path):
    broken = tmp_path / "custom.toml"
    broken.write_text(_guides(leader='title = "x"\nsections = [""]\n'), encoding="utf-8")
    with pytest.raises(GuideError, match=r"custom\.toml: \[leader\]: section 1 is empty"):
        load_guides(broken)
    broken.write_bytes(b'\xff\xfe[junior]\ntitle = "x"\n')
    with pytest.raises(GuideError, match=r"custom\.toml: not UTF-8"):
        load_guides(broken)


def test_the_bot_refuses_to_start_with_broken_guides(tmp_path, monkeypatch, capsys):
    import app

    broken = tmp_path / "guides.toml"
    broken.write_text(_guides(leader='title = "x"\nsections = []\n'), encoding="utf-8")
    monkeypatch.setattr(app, "load_guides", lambda: load_guides(broken))
    monkeypatch.setattr(app, "configure_logging", lambda level: None)  # keep pytest's logging
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name, value in {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mentor.db'}",
    }.items():
        monkeypatch.setenv(name, value)
    assert app.main([]) == 2
    [error] = capsys.readouterr().err.splitlines()
    assert error.startswith("reverse-mentor: the preparation guides are invalid: ")
    assert error.endswith(
        "guides.toml: [leader]: field 'sections' is empty; add at least one section"
    )
