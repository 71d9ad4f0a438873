"""The personal store is private to its account: other users of the machine cannot read it.

The default SQLite database lives in the user's data directory, which the server creates (or
tightens) to mode 0700, so the database, its write-ahead log and its shared-memory file are out
of reach of other accounts whatever the umask gave the files themselves.
"""

from __future__ import annotations

import stat

from api import config


def test_default_database_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "data" / "strongties"

    url = config.default_database_url()
    assert url == f"sqlite:///{folder / 'strongties.db'}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    folder.chmod(0o755)  # as an older version left it
    config.default_database_url()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
