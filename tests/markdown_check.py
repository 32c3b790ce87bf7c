#!/usr/bin/python3
"""markdown_check.py FILE.md... - the Markdown report, rendered by a real Markdown renderer
(Debian's python3-markdown, with the GitHub-style tables and fenced code blocks), comes out
as the elements Markdown makes and nothing else: no raw HTML.

For each file: every element is one Markdown itself produces (headings, paragraphs,
emphasis, code, tables, lists, links), every link goes to http(s), no attribute but a
link's href and a code block's language class - and every hostile string the report
quotes (tests/unit/test_show.c's HOSTILE) is there as text, so escaping kept it rather
than dropped it. Exits 1 with one line per problem.
"""
import html.parser
import sys

import markdown

ALLOWED = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "strong", "em", "code", "pre", "table",
           "thead", "tbody", "tr", "th", "td", "ul", "ol", "li", "a", "hr", "br"}
HOSTILE = "<script>alert(1)</script> | **b** _i_ `tick` ``` [x](javascript:y) &amp; #1 ~s~"


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
