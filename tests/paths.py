"""Where the tests find the project and the shared data."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CAT_DATA = SHARED_DATA / "catvnoncat"
