"""HTML reports: one self-contained page per case (``--format html``) and the portfolio
dashboard of a batch run (``airisk report``, ``airisk batch --report``).

Every page is one file: its stylesheet, its script and the chart library (d3, ISC licence) are
inlined, so it opens offline and fetches nothing. The chrome (headings, labels, legends) comes
from ``strings`` in English or Chinese; the texts of the findings are the assessment's own.
"""
