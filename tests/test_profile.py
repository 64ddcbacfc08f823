"""Profile loading: the shipped profile is valid, and every kind of mistake names file and key."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from portal_crawler.extraction.profile import ProfileError, load_profile, parse_profile


def shipped() -> dict:
    return tomllib.loads((resources.files("portal_crawler.profiles") / "mps.toml").read_text())


def test_mps_profile_covers_both_hosts_schemes_and_templates() -> None:
    profile = load_profile("mps")
    assert set(profile.hosts) == {"en.bocongan.gov.vn", "en.mps.gov.vn"}
    assert [t.name for t in profile.templates] == ["legacy", "current"]
    assert [t.name for t in profile.listing_templates] == ["legacy", "current"]
    assert any(p.search("/news-and-events.html") for p in profile.urls.listing)
    assert any(p.search("/news.html") for p in profile.urls.listing)


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda d: d["urls"].__setitem__("article", ["^/(?P<id>t\\d+"]), "urls.article[0]"),
        (lambda d: d["urls"].__setitem__("article", ["^/no-id-group$"]), "urls.article[0]"),
        (lambda d: d["templates"][1].__setitem__("title", "h1[[["), "templates[1].title"),
        (lambda d: d["templates"][0].pop("body"), "templates[0].body"),
        (lambda d: d["listing_templates"][0].__setitem__("item", 3), "listing_templates[0].item"),
        (lambda d: d.__setitem__("hosts", "en.mps.gov.vn"), "hosts"),
        (lambda d: d["templates"][1].__setitem__("name", "legacy"), "templates"),
        (lambda d: d["templates"][0]["cleaners"].__setitem__("author", "shout"), "templates[0].cleaners.author"),
    ],
)
def test_bad_profile_names_file_and_key(mutate, key: str) -> None:
    data = shipped()
    mutate(data)
    with pytest.raises(ProfileError) as caught:
        parse_profile(data, "profiles/broken.toml")
    assert str(caught.value).startswith(f"profiles/broken.toml: {key}:")


def test_unknown_profile_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile"):
        load_profile("nosuchportal")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = [unclosed\n")
    with pytest.raises(ProfileError, match=f"{broken}: not valid TOML"):
        load_profile(str(broken))


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Ha Noi,&nbsp; 1 Dec\n  2026 </p>", "Ha Noi, 1 Dec 2026"),
        ("<p>a<br>b</p>", "a b"),
        ("<p>a<script>var x;</script>b<style>p{}</style> c</p>", "ab c"),
        ("<p>a<!-- hidden -->b</p>", "ab"),
        ("<p><em>By</em> Le Hoa</p>", "By Le Hoa"),
        ("<p></p>", ""),
    ],
)
def test_element_text_reads_text_and_tails_with_br_as_a_space(markup: str, expected: str) -> None:
    from lxml import html

    from portal_crawler.extraction.cleaners import element_text

    paragraph = html.fromstring(f"<div>{markup}</div>")[0]
    assert element_text(paragraph) == expected
    for childless in ("<br>", "<script>x</script>", "<style>x</style>"):
        assert element_text(html.fromstring(f"<div>{childless}</div>")[0]) == ""
    comment = html.fromstring("<div><!-- note --></div>")[0]
    assert element_text(comment) == ""
