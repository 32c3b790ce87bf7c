#!/usr/bin/python3
"""markdown_check.py FILE.md... - the Markdown report, rendered by a real Markdown renderer
(Debian's python3-markdown, with the GitHub-style tables and fenced code blocks), comes out
as the elements Markdown makes and nothing else: no raw HTML.

For each file: every element is one Markdown itself produces (headings, paragraphs,
emphasis, code, tables, lists, links), every link goes to http(s), no attribute but a
link's href and a code block's language class - and every hostile string the report
quotes (tests/unit/test_show.c's HOSTILE) is there as text, so escaping kept it rather
than dropped it. Exits 1 with one line per problem.

Then GitHub's own renderer, cmark-gfm with its autolink extension (Debian's cmark-gfm), when
installed: every link in its output is one the report writes ([text](url)), none it made of
a bare "https://..." or "www." in a string from the network. Without cmark-gfm that part
is skipped with a note, except under CI=true, where it is a problem.
"""
import html.parser
import os
import shutil
import subprocess
import sys

import markdown

ALLOWED = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "em", "code", "pre", "table",
           "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "a", "hr", "br"}
HOSTILE = ("<script>alert(1)</script> | **b** _i_ `tick` ``` [x](javascript:y) &amp; #1 ~s~ "
           "https://evil.example/x www.evil.example")


class Elements(html.parser.HTMLParser):
    """Collects the problems of one rendered document, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            self.problems.append(f"element <{tag}> is not one Markdown makes")
        for name, value in attrs:
            if tag == "a" and name == "href":
                if not (value or "").startswith(("https://", "http://")):
                    self.problems.append(f"link to {value!r}")
            elif not (tag == "code" and name == "class" and value == "language-text"):
                self.problems.append(f"attribute {name}={value!r} on <{tag}>")

    def handle_comment(self, data):
        self.problems.append(f"an HTML comment {data!r}")

    def handle_decl(self, decl):
        self.problems.append(f"a declaration {decl!r}")

    def handle_pi(self, data):
        self.problems.append(f"a processing instruction {data!r}")

    def handle_data(self, data):
        self.text.append(data)


class Links(html.parser.HTMLParser):
    """The href of every <a> of a rendered document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def check_gfm(source):
    """The links cmark-gfm (autolink extension on) makes that the report did not write;
    None when cmark-gfm is not installed."""
    if not shutil.which("cmark-gfm"):
        return None
    p = subprocess.run(["cmark-gfm", "-e", "autolink", "-e", "table", "-e", "strikethrough"],
                       input=source, capture_output=True, text=True, timeout=30, check=True)
    links = Links()
    links.feed(p.stdout)
    links.close()
    return [f"cmark-gfm made a link to {href!r} the report did not write"
            for href in links.hrefs if f"]({href})" not in source]


def check(path):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    rendered = markdown.markdown(source, extensions=["tables", "fenced_code"])
    parser = Elements()
    parser.feed(rendered)
    parser.close()
    problems = parser.problems
    text = "".join(parser.text)
    if HOSTILE in source and HOSTILE not in text:
        problems.append("the hostile string does not come out as the text it is")
    if "<table>" not in rendered and "| --- |" in source:
        problems.append("the evidence table did not render as a table")
    gfm = check_gfm(source)
    if gfm is None:
        if in_ci():
            problems.append("cmark-gfm is not installed (packaging/install-deps installs it)")
        else:
            print(f"{path}: cmark-gfm not installed, GitHub's autolinks not checked",
                  file=sys.stderr)
    else:
        problems += gfm
    return [f"{path}: {p}" for p in problems]


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = [p for path in argv[1:] for p in check(path)]
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(argv) - 1} Markdown file(s) rendered, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
