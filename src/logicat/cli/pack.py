"""``logicat pack IMAGE_ROOT OUT.h5``: an image folder -> one HDF5 file for training."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("image_root", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--image-size", "--size", "size", type=click.IntRange(min=1, max=1024),
              default=64, show_default=True, metavar="N",
              help="Side of the square images stored (pixels), as train's --image-size "
              "(--size is its old name).")
@click.option("--positive", default="cat", show_default=True,
              help="The class folder that is label 1; every other class folder is label 0.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None,
              help="Processes decoding images [default: the CPUs available].")
def pack(image_root, out, size, positive, workers):
    """Decode the images of IMAGE_ROOT (IMAGE_ROOT/<class>/...) into OUT.h5.

    OUT.h5 has the cat-data layout (train_set_x uint8 (m, size, size, 3), train_set_y,
    list_classes), chunked, for `logicat train --train-file`. An OUT without an extension gets
    .h5 ('pack photos mine' writes mine.h5). Unreadable images are skipped and listed at the
    end; the run never stops half-way.
    """
    from tqdm.auto import tqdm

    from logicat.core.paths import shown
    from logicat.data import list_image_folder
    from logicat.data.pack import pack_image_folder

    added = bool(out.name) and not out.suffix
    if added:  # the file is HDF5: say so in its name
        out = out.with_name(out.name + ".h5")
    total = len(list_image_folder(image_root, positive)[0])
    with tqdm(total=total, unit="img", desc=f"packing {image_root}", disable=None) as bar:
        result = pack_image_folder(image_root, out, size=size, positive=positive,
                                   workers=workers, progress=bar.update)
    neg, pos = result.classes
    click.echo(f"Wrote {result.n_images} images ({result.n_positive} {pos}, "
               f"{result.n_images - result.n_positive} {neg}) of {size}x{size} to {out}"
               + (" (OUT had no extension: .h5 added)" if added else ""))
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped)} unreadable image(s):", err=True)
        for path, reason in result.skipped:
            click.echo(f"  {shown(path)}: {reason}", err=True)
