"""ovz-panel: a small web control panel over libovz's Python module (examples/panel)."""
