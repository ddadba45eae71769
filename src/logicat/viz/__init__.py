"""Pictures and reports: matplotlib figures of a model and its data (``plots``), and one
self-contained HTML page about a model (``report``). The web page draws through ``plots`` too."""
