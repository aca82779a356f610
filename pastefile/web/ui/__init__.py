"""The browser's pages beyond the public contract: My files, Admin, the account
pages, Help, the stats dashboards, the jobs console and the language switch
(docs/ui.md); ``templating.py`` gives every template its filters and globals."""
