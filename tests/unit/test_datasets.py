"""Data sets: IDX files, loader order, clear messages when offline, the shapes set, read-only sharing."""

import gzip
import struct

import numpy as np
import pytest

import core.data.datasets as datasets
from core.data.datasets import (
    IDX_FILES,
    DatasetUnavailable,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    make_shapes,
    read_idx,
)


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    return b"\0\0\x08" + bytes([array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape) + array.tobytes()


def write_idx_dir(folder, n_train, n_test, fill=0, gz=True):
    """The four MNIST-family files with n_train / n_test tiny 28×28 images; returns the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n_train)
    arrays = {
        "x_train": np.full((n_train, 28, 28), fill, np.uint8) + rng.integers(0, 2, (n_train, 28, 28), np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), np.uint8),
        "y_test": (np.arange(n_test) % 10)[::-1].astype(np.uint8),
    }
    for key, name in IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / name).write_bytes(gzip.compress(data))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(data)
    return arrays


@pytest.fixture
def no_sources(tmp_path, monkeypatch):
    """Nothing available: no env dirs, no Debian package, an empty Keras cache, no download."""
    for var in ("FASHION_MNIST_DIR", "MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CNN_PLAYGROUND_OFFLINE", "1")
    keras_home = tmp_path / "keras_home"
    keras_home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", tmp_path / "not-installed")
    return keras_home


# --- IDX files ----------------------------------------------------------------------------------


def test_read_idx_gz_and_plain(tmp_path):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(images)))
    (tmp_path / "a").write_bytes(idx_bytes(images))
    for name in ("a.gz", "a"):
        read = read_idx(tmp_path / name)
        assert read.shape == (3, 4, 5) and read.dtype == np.uint8
        np.testing.assert_array_equal(read, images)
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    (tmp_path / "l.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(read_idx(tmp_path / "l.gz"), labels)


@pytest.mark.parametrize(
    "damage", ["truncated_values", "truncated_gzip", "not_gzip", "wrong_magic", "short_header", "empty"]
)
def test_damaged_idx_gives_a_plain_message(tmp_path, damage):
    good = idx_bytes(np.ones((4, 28, 28), np.uint8))
    content = {
        "truncated_values": gzip.compress(good[:-100]),
        "truncated_gzip": gzip.compress(good)[:-12],  # the end of the stream is cut off
        "not_gzip": b"this is not gzip at all",
        "wrong_magic": gzip.compress(b"\x12\x34" + good[2:]),
        "short_header": gzip.compress(good[:9]),  # says 3 dimensions but stops inside the header
        "empty": b"",
    }[damage]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetUnavailable) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith("train-images-idx3-ubyte.gz ")  # the file by its name: no server path
    assert str(tmp_path) not in message
    assert "fetch it again" in message
    assert "Traceback" not in message


def test_images_and_labels_must_match_in_number(tmp_path, no_sources, monkeypatch):
    folder = tmp_path / "fm"
    write_idx_dir(folder, 6, 3)
    (folder / IDX_FILES["y_train"]).write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8))))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    with pytest.raises(DatasetUnavailable, match="train images and labels .* do not match in number"):
        load_fashion_mnist()


# --- loader order --------------------------------------------------------------------------------


def test_fashion_mnist_env_dir_wins_then_debian_then_keras_cache(tmp_path, no_sources, monkeypatch):
    env_dir, debian_dir = tmp_path / "env", tmp_path / "debian"
    keras_dir = no_sources / "datasets" / "fashion-mnist"
    env_arrays = write_idx_dir(env_dir, 7, 3)
    write_idx_dir(debian_dir, 5, 2)
    write_idx_dir(keras_dir, 4, 1)
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", debian_dir)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(env_dir))

    data = load_fashion_mnist()
    assert data.source == "the folder set in FASHION_MNIST_DIR"  # words for the Data page, no server path
    assert (len(data.x_train), len(data.x_test)) == (7, 3)
    assert data.x_train.shape == (7, 28, 28, 1) and data.x_train.dtype == np.uint8
    np.testing.assert_array_equal(data.x_train[..., 0], env_arrays["x_train"])
    np.testing.assert_array_equal(data.y_test, env_arrays["y_test"])
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert data.class_names[0] == "T-shirt/top" and data.class_names[9] == "Ankle boot"

    monkeypatch.delenv("FASHION_MNIST_DIR")
    data = load_fashion_mnist()
    assert data.source == "Debian's dataset-fashion-mnist package" and len(data.x_train) == 5

    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", tmp_path / "missing")
    data = load_fashion_mnist()
    assert data.source == "Keras' cache (fashion-mnist)" and len(data.x_train) == 4


def test_env_dir_without_the_files_falls_through(tmp_path, no_sources, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    debian_dir = tmp_path / "debian"
    write_idx_dir(debian_dir, 5, 2, gz=False)  # un-gzipped copies are accepted too
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", debian_dir)
    monkeypatch.setenv("FASHION_MNIST_DIR", str(empty))
    data = load_fashion_mnist()
    assert data.source == "Debian's dataset-fashion-mnist package" and len(data.x_train) == 5


def test_fashion_mnist_unavailable_says_how_to_get_it(no_sources):
    with pytest.raises(DatasetUnavailable) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert message.startswith("Fashion-MNIST is not available on this computer and could not be downloaded.")
    assert "sudo apt-get install dataset-fashion-mnist" in message
    assert "FASHION_MNIST_DIR" in message


def test_mnist_env_dir_with_idx_files_or_npz(tmp_path, no_sources, monkeypatch):
    idx_dir = tmp_path / "idx"
    write_idx_dir(idx_dir, 6, 2)
    monkeypatch.setenv("MNIST_DIR", str(idx_dir))
    data = load_mnist()
    assert data.source == "the folder set in MNIST_DIR" and len(data.x_train) == 6
    assert data.class_names == tuple("0123456789")

    npz_dir = tmp_path / "npz"
    npz_dir.mkdir()
    np.savez(
        npz_dir / "mnist.npz",
        x_train=np.zeros((9, 28, 28), np.uint8),
        y_train=np.arange(9) % 10,
        x_test=np.zeros((2, 28, 28), np.uint8),
        y_test=np.array([1, 2]),
    )
    monkeypatch.setenv("MNIST_DIR", str(npz_dir))
    data = load_mnist()
    assert data.x_train.shape == (9, 28, 28, 1) and list(data.y_test) == [1, 2]


def test_mnist_from_the_keras_cache_npz(no_sources):
    (no_sources / "datasets").mkdir()
    np.savez(
        no_sources / "datasets" / "mnist.npz",
        x_train=np.zeros((3, 28, 28), np.uint8),
        y_train=np.array([0, 1, 2]),
        x_test=np.zeros((1, 28, 28), np.uint8),
        y_test=np.array([7]),
    )
    data = load_mnist()
    assert data.source == "Keras' cache (mnist.npz)"
    assert len(data.x_train) == 3 and data.y_test.tolist() == [7]


def test_damaged_mnist_npz_gives_a_plain_message(no_sources):
    (no_sources / "datasets").mkdir()
    (no_sources / "datasets" / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DatasetUnavailable, match="cannot be read .* delete it and fetch it again"):
        load_mnist()


def test_mnist_unavailable_says_how_to_get_it(no_sources):
    with pytest.raises(DatasetUnavailable) as info:
        load_mnist()
    message = str(info.value)
    assert message.startswith("MNIST digits is not available on this computer and could not be downloaded.")
    assert "MNIST_DIR" in message and "mnist.npz" in message


def test_unknown_dataset_name():
    with pytest.raises(
        DatasetUnavailable, match="Unknown data set 'cifar'; choose one of fashion_mnist, mnist, shapes"
    ):
        load_dataset("cifar")


# --- shapes, and sharing ----------------------------------------------------------------------


def test_shapes_dataset():
    data = load_dataset("shapes")
    assert data.x_train.shape == (2000, 28, 28, 1) and data.x_test.shape == (500, 28, 28, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert data.class_names == ("square", "circle", "triangle", "cross", "ring") and data.num_classes == 5
    assert data.input_shape == (28, 28, 1)
    assert sorted(np.bincount(data.y_train).tolist()) == [400] * 5  # balanced
    assert set(data.y_test.tolist()) == {0, 1, 2, 3, 4}
    assert data.x_train.max() > 150 and data.x_train.min() < 60  # bright shapes on a dark, noisy ground


def test_make_shapes_is_deterministic():
    x1, y1 = make_shapes(20, seed=3)
    x2, y2 = make_shapes(20, seed=3)
    x3, _ = make_shapes(20, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_loaded_once_and_read_only():
    first = load_dataset("shapes")
    assert load_dataset("shapes") is first
    for array in (first.x_train, first.y_train, first.x_test, first.y_test):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 0
    scaled = first.as_float("x_train")
    assert scaled is first.as_float("x_train")
    assert scaled.dtype == np.float32 and scaled.shape == first.x_train.shape
    assert 0.0 <= scaled.min() and scaled.max() <= 1.0
    assert not scaled.flags.writeable


def test_an_unavailable_data_set_is_not_downloaded_again_on_every_page(monkeypatch, tmp_path):
    """An offline server tried Keras' MNIST download nine times for one visit of the Data page."""
    from core.data import datasets

    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.delenv("CNN_PLAYGROUND_OFFLINE", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty Keras cache
    monkeypatch.setattr(datasets, "_unavailable", {})
    tries = []
    monkeypatch.setattr(datasets, "_keras_download", lambda module: tries.append(module))
    for _ in range(9):
        with pytest.raises(datasets.DatasetUnavailable, match="MNIST digits is not available"):
            datasets.load_dataset("mnist")
    assert tries == ["mnist"]
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "new"))  # a folder named since: looked in at once
    with pytest.raises(datasets.DatasetUnavailable):
        datasets.load_dataset("mnist")
    assert tries == ["mnist", "mnist"]
