"""``logicat download``: fetch the cat data into the cache, verifying checksums."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--base-url", default=None, metavar="URL",
              help="Where the two .h5 files are [default: $LOGICAT_DATA_URL or the public mirror].")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to download into [default: ~/.cache/logicat/catvnoncat].")
def download(base_url, dest):
    """Download the cat/non-cat data set and verify its SHA-256 digests."""
    from logicat.data import download_catvnoncat

    folder = download_catvnoncat(base_url=base_url, dest=dest)
    click.echo(f"The cat data is in {folder}")
