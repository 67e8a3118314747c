"""`cnncalc report`: one self-contained HTML page of a spec (docs/report.md).

The page is made from the data `summary --format json --training` writes (embedded in the page as it is, with the
lint findings and the graph to draw) and shows every number rendered here, in Python, as
`<data value="EXACT" data-k="PATH">shown</data>`, PATH the key of that number in the embedded JSON; the graph alone
is drawn in the browser, by the vendored dagre (vendor/README.md) and page.js.
"""
