"""The 16 entry-level categories of model-vs-human and their ImageNet-1k class indices.

A model with 1000 ImageNet logits makes a 16-way decision by averaging its softmax over the
ImageNet classes of each category and taking the argmax (Geirhos et al. 2018, 2021). The index
table below is the one model-vs-human uses (bethgelab/model-vs-human,
``modelvshuman/helper/human_categories.py``): the WordNet hyponyms of each category among the
ILSVRC-2012 classes, minus a few excluded by hand. 207 of the 1000 classes belong to a category.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError

#: The 16 categories in alphabetical order (the order of every 16-way array in brainalign).
CATEGORIES: tuple[str, ...] = ("airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat", "chair",
                               "clock", "dog", "elephant", "keyboard", "knife", "oven", "truck")

#: ImageNet-1k class indices (0-based, standard synset order) of each category.
IMAGENET_INDICES: dict[str, tuple[int, ...]] = {
    "airplane": (404,),
    "bear": (294, 295, 296, 297),
    "bicycle": (444, 671),
    "bird": (8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 23, 24, 80, 81, 82, 83, 87, 88, 89, 90, 91, 92,
             93, 94, 95, 96, 98, 99, 100, 127, 128, 129, 130, 131, 132, 133, 135, 136, 137, 138, 139, 140,
             141, 142, 143, 144, 145),
    "boat": (472, 554, 625, 814, 914),
    "bottle": (440, 720, 737, 898, 899, 901, 907),
    "car": (436, 511, 817),
    "cat": (281, 282, 283, 284, 285, 286),
    "chair": (423, 559, 765, 857),
    "clock": (409, 530, 892),
    "dog": (152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170,
            171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189,
            190, 191, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 205, 206, 207, 208, 209, 210,
            211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224, 225, 226, 228, 229, 230,
            231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 243, 244, 245, 246, 247, 248, 249, 250,
            252, 253, 254, 255, 256, 257, 259, 261, 262, 263, 265, 266, 267, 268),
    "elephant": (385, 386),
    "keyboard": (508, 878),
    "knife": (499,),
    "oven": (766,),
    "truck": (555, 569, 656, 675, 717, 734, 864, 867),
}


def category_probabilities(logits: np.ndarray) -> np.ndarray:
    """Mean ImageNet softmax probability over each category's classes.

    Parameters
    ----------
    logits : ndarray of shape (n_images, 1000), ImageNet-1k logits in the standard class order.

    Returns
    -------
    ndarray of shape (n_images, 16), in the order of :data:`CATEGORIES`.

    Examples
    --------
    >>> logits = np.zeros((1, 1000)); logits[0, 404] = 10.0
    >>> CATEGORIES[int(category_probabilities(logits).argmax())]
    'airplane'
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[1] != 1000:
        raise DataError(f"16-class decisions need ImageNet logits of shape (n, 1000); got {logits.shape}",
                        hint="use a model with a 1000-class ImageNet head, or a layer readout (--layer)")
    shifted = logits - logits.max(axis=1, keepdims=True)
    softmax = np.exp(shifted)
    softmax /= softmax.sum(axis=1, keepdims=True)
    return np.stack([softmax[:, list(IMAGENET_INDICES[c])].mean(axis=1) for c in CATEGORIES], axis=1)


def decisions_16(logits: np.ndarray) -> np.ndarray:
    """The 16-way decision of each image: ndarray of shape (n_images,) of category names."""
    return np.asarray(CATEGORIES, dtype=object)[category_probabilities(logits).argmax(axis=1)].astype(str)
