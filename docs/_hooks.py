"""mkdocs hooks: the command-line reference generated from the argparse definitions, and the pictures the
evidence pages show, taken from benchmarks/ where they are committed (not copied into docs/); the home
page is the README (one text, two places). The pages
link them by their path in the repository (``../../benchmarks/...``: right on GitHub too); the site puts
benchmarks/ beside the pages, and the links are rewritten to match."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent.parent
MARK = "<!-- generated: archsearch cli -->"


def on_files(files, config):
    # the home page is the README, its links made relative to docs/
    readme = (ROOT / "README.md").read_text().replace("](docs/", "](")
    files.append(File.generated(config, "index.md", content=readme))
    for png in sorted((ROOT / "benchmarks").rglob("*.png")):
        files.append(File(str(png.relative_to(ROOT)), str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def _site_link(match: re.Match, page_dir: str) -> str:
    target = (ROOT / "docs" / page_dir / match.group(2)).resolve()
    try:
        inside = target.relative_to(ROOT / "benchmarks")
    except ValueError:
        return match.group(0)
    return f"{match.group(1)}({os.path.relpath(Path('benchmarks') / inside, page_dir or '.')})"


def on_page_markdown(markdown, page, config, files):
    page_dir = os.path.dirname(page.file.src_path)
    markdown = re.sub(r"(!?\[[^\]]*\])\(([^)\s]+\.png)\)", lambda m: _site_link(m, page_dir), markdown)
    if MARK in markdown:
        from archsearch.cli.reference import cli_markdown

        markdown = markdown.replace(MARK, cli_markdown())
    return markdown
