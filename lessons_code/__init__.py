"""Gradients Through Time: the code behind every figure and number on the site.

One module per lesson (``lNN_slug.py``) declares its figures in a module-level ``FIGURES`` list;
``python -m lessons_code`` regenerates them (see ``cli.py``). Importing this package is cheap:
it imports neither numpy nor torch, so MkDocs hooks can use ``lessons_code.paths`` freely.
"""
