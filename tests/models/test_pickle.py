"""Every model class survives pickle and copy.deepcopy with the same outputs.

Course 4.5 hands ``datasets.map`` a function that refers to a model; ``map`` pickles it (to hash
it for the cache, and to send it to worker processes with ``num_proc``).
"""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from _every_model import build, inputs, model_classes

from clearformer.models.transformer.modeling_transformer import make_model

CLASSES = model_classes()


def _first_tensor(output):
    if isinstance(output, torch.Tensor):
        return output
    return next(v for v in (output.values() if hasattr(output, "values") else output) if isinstance(v, torch.Tensor))


@pytest.mark.parametrize(("family", "cls"), CLASSES, ids=[c.__name__ for _, c in CLASSES])
def test_model_round_trips_through_pickle_and_deepcopy_with_equal_outputs(family, cls):
    model = build(family, cls)
    given = inputs(cls)
    with torch.no_grad():
        before = _first_tensor(model(**given))
        model(**given)  # a second call: inference caches (fused QKV) exist when pickling
        for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert type(clone) is cls
            assert clone.state_dict().keys() == model.state_dict().keys()
            after = _first_tensor(clone(**given))
            assert torch.equal(before, after)


def test_paper_transformer_round_trips_through_pickle():
    torch.manual_seed(0)
    model = make_model(11, 11, N=1, d_model=16, d_ff=32, h=2).eval()
    src = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        before = model(src, src, None, None)
        clone = pickle.loads(pickle.dumps(model))
        assert torch.equal(before, clone(src, src, None, None))
        assert torch.equal(before, copy.deepcopy(model)(src, src, None, None))
