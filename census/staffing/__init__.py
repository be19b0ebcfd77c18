"""Staffing the census: the 两员 and every other account, departments, who works where, credentials, passwords
and API tokens.

The models are the census app's (``census/models/staff.py``); this package holds what offices do with them:
``services`` (every write, each audited), ``selectors`` (reads through ``visible_to``), ``imports`` (the office's
spreadsheet through django-import-export), ``credentials`` (the printable 普查员证/普查指导员证), the pages
(``views``, mounted under the frame's URLs) and the API (``api``).
"""
