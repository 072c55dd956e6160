"""A self-contained HTML page that shows attention weights with a layer and a head selector.

One file, no network: the weights are inlined as JSON and drawn as a table of coloured cells by
a few lines of JavaScript. Each cell carries its weight in ``data-w`` (and a tooltip), which the
browser test reads back after switching heads.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-top: 1em; }
td { width: 26px; height: 26px; border: 1px solid #eee; text-align: center; font-size: 9px; }
th { font-size: 12px; font-weight: normal; padding: 2px 4px; }
th.col { writing-mode: vertical-rl; transform: rotate(180deg); height: 80px; }
#legend { margin-top: .6em; font-size: 12px; color: #444; }
</style></head><body>
<h1>__TITLE__</h1>
<p>Row = query token (who looks), column = key token (who is looked at); darker = more attention.
Each row sums to 1. / 行是查询词，列是被关注的词，颜色越深权重越大，每行之和为 1。</p>
<label>layer <select id="layer"></select></label>
<label>head <select id="head"></select></label>
<h2 id="caption"></h2>
<table id="grid"></table>
<p id="legend"></p>
<script id="data" type="application/json">__DATA__</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
const layerSel = document.getElementById("layer"), headSel = document.getElementById("head");
const nHeads = data.weights[0].length;
data.weights.forEach((_, i) => layerSel.add(new Option("layer " + i, i)));
for (let h = 0; h < nHeads; h++) headSel.add(new Option("head " + h, h));
headSel.add(new Option("mean of heads", "mean"));
layerSel.value = String(data.initial[0]); headSel.value = String(data.initial[1]);
function matrix(layer, head) {
  if (head !== "mean") return data.weights[layer][head];
  const heads = data.weights[layer];
  return heads[0].map((row, i) => row.map((_, j) => heads.reduce((s, m) => s + m[i][j], 0) / heads.length));
}
function draw() {
  const layer = Number(layerSel.value), head = headSel.value === "mean" ? "mean" : Number(headSel.value);
  const m = matrix(layer, head), grid = document.getElementById("grid");
  grid.innerHTML = "";
  const top = grid.insertRow();
  top.appendChild(document.createElement("th"));
  data.tokens.forEach(t => {
    const th = document.createElement("th");
    th.className = "col"; th.textContent = t; top.appendChild(th);
  });
  m.forEach((row, i) => {
    const tr = grid.insertRow();
    const th = document.createElement("th"); th.textContent = data.tokens[i]; tr.appendChild(th);
    row.forEach((w, j) => {
      const td = tr.insertCell();
      td.dataset.w = w.toFixed(4);
      td.title = data.tokens[i] + " -> " + data.tokens[j] + ": " + w.toFixed(3);
      td.style.background = "rgba(30, 80, 200, " + Math.min(1, w).toFixed(3) + ")";
      if (w >= 0.3) td.textContent = w.toFixed(1).replace(/^0/, "");
      td.style.color = w > 0.6 ? "white" : "black";
    });
  });
  const which = head === "mean" ? "mean of heads" : "head " + head;
  document.getElementById("caption").textContent = "layer " + layer + ", " + which;
  document.getElementById("legend").textContent = data.model;
  document.body.dataset.layer = layer; document.body.dataset.head = head;
}
layerSel.addEventListener("change", draw);
headSel.addEventListener("change", draw);
draw();
</script></body></html>
"""


def write_attention_viewer(
    path: str | Path, tokens: list[str], weights: list, title: str, model: str = "", initial: tuple[int, int] = (0, 0)
) -> Path:
    """Write the viewer for ``weights`` [layers][heads][query][key] over ``tokens``, opening on the
    ``initial`` (layer, head)."""
    payload = json.dumps(
        {"tokens": tokens, "weights": weights, "model": model, "initial": list(initial)}, ensure_ascii=False
    )
    page = _PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", payload.replace("</", "<\\/"))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
