"""What transformers 5.x removed from BERT, against transformers 4.57 (the legacy oracle).

5.24 silently loads ``position_embedding_type`` relative_key / relative_key_query as absolute and
dropped ``head_mask``; 4.57 still implements both. It runs in its own virtualenv
(scripts/setup_legacy_oracle.sh): it builds tiny random models, saves them and its outputs, and
clearformer must load the folders and reproduce the outputs at 1e-5.
"""

from __future__ import annotations

import pytest
import torch

import clearformer
from tests.conftest import run_legacy
from tests.models._oracle import TINY, max_diff

LEGACY_SCRIPT = r"""
import sys, torch, transformers
assert transformers.__version__.startswith("4.57"), transformers.__version__
out_dir = sys.argv[1]
inputs = torch.load(out_dir + "/inputs.pt")
results = {}
for name, kw in [("absolute", {}), ("relative_key", {"position_embedding_type": "relative_key"}),
                 ("relative_key_query", {"position_embedding_type": "relative_key_query"})]:
    for head in ["BertModel", "BertForSequenceClassification"]:
        torch.manual_seed(0)
        cfg = transformers.BertConfig(**TINY, attn_implementation="eager", **kw)
        model = getattr(transformers, head)(cfg).eval()
        with torch.no_grad():  # the distance table starts at N(0, 0.02); make its effect visible
            for m in model.modules():
                if hasattr(m, "distance_embedding"):
                    m.distance_embedding.weight.normal_(0, 1.0)
        folder = f"{out_dir}/{name}-{head}"
        model.save_pretrained(folder)
        with torch.no_grad():
            o = model(**inputs, output_attentions=True, output_hidden_states=True)
            hm = model(**inputs, head_mask=inputs_head_mask, output_attentions=True)
        results[(name, head)] = {"first": o[0], "attentions": o.attentions, "hidden": o.hidden_states,
                                 "head_mask_first": hm[0], "head_mask_attentions": hm.attentions}
torch.save(results, out_dir + "/results.pt")
print("ok")
"""


@pytest.fixture(scope="module")
def legacy_results(legacy_python, tmp_path_factory):
    out = tmp_path_factory.mktemp("legacy")
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(3, 99, (2, 10), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    torch.save({"input_ids": ids, "attention_mask": mask}, out / "inputs.pt")
    head_mask = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.5]])
    script = f"TINY = {TINY!r}\ninputs_head_mask = torch.tensor({head_mask.tolist()!r})\n" + LEGACY_SCRIPT
    script = script.replace("import sys, torch, transformers", "")
    run_legacy(legacy_python, "import sys, torch, transformers\n" + script, str(out))
    return out, torch.load(out / "results.pt"), {"input_ids": ids, "attention_mask": mask}, head_mask


@pytest.mark.parametrize("position_type", ["absolute", "relative_key", "relative_key_query"])
@pytest.mark.parametrize("head", ["BertModel", "BertForSequenceClassification"])
def test_position_types_match_transformers_4_57(legacy_results, position_type, head):
    folder, results, inputs, _ = legacy_results
    model = getattr(clearformer, head).from_pretrained(folder / f"{position_type}-{head}")
    assert model.config.position_embedding_type == position_type
    want = results[(position_type, head)]
    with torch.no_grad():
        got = model(**inputs, output_attentions=True, output_hidden_states=True)
    assert max_diff(want["first"], got[0]) < 1e-5
    assert max_diff(want["attentions"], got.attentions) < 1e-5
    assert max_diff(want["hidden"], got.hidden_states) < 1e-5


@pytest.mark.parametrize("position_type", ["absolute", "relative_key"])
def test_head_mask_matches_transformers_4_57(legacy_results, position_type):
    folder, results, inputs, head_mask = legacy_results
    model = clearformer.BertModel.from_pretrained(folder / f"{position_type}-BertModel")
    want = results[(position_type, "BertModel")]
    with torch.no_grad():
        got = model(**inputs, head_mask=head_mask, output_attentions=True)
    assert max_diff(want["head_mask_first"], got[0]) < 1e-5
    assert max_diff(want["head_mask_attentions"], got.attentions) < 1e-5
    assert got.attentions[0][:, 1].abs().max() == 0  # a masked head contributes nothing
    assert max_diff(want["head_mask_first"], want["first"]) > 1e-3  # the mask changed the output


def test_relative_positions_change_the_output(legacy_results):
    """Guards the test itself: relative and absolute models must not agree by accident."""
    _, results, _, _ = legacy_results
    a = results[("absolute", "BertModel")]["first"]
    r = results[("relative_key", "BertModel")]["first"]
    assert max_diff(a, r) > 1e-2
