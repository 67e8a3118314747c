// The report page's script: the tree's Expand/Collapse buttons, exact values on hover, and the graph, laid out by
// dagre (vendor/) and drawn here as SVG. Every number the page shows is already in the HTML, written by
// cnncalc/report/html.py; the graph's labels come from the embedded JSON.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cnncalc-data").textContent);
  var CHAR = 7.4; // width of a 12px monospace character, with room to spare
  var LINE = 15;

  document.querySelectorAll("[data-tree]").forEach(function (button) {
    button.addEventListener("click", function () {
      // Expand all opens the blocks, not the groups of a long list (report/html.py, TREE_GROUP): thousands of
      // lines at once would stall the page; a group opens by a click.
      var open = button.getAttribute("data-tree") === "open";
      document.querySelectorAll(open ? ".tree details:not(.group)" : ".tree details").forEach(function (d) {
        d.open = open;
      });
    });
  });

  document.addEventListener("mouseover", function (e) {
    var t = e.target;
    if (t.tagName === "DATA" && !t.title) {
      t.title = t.value.split(",").map(function (v) {
        return /^-?\d+$/.test(v) ? v.replace(/\B(?=(\d{3})+(?!\d))/g, ",") : v;
      }).join(" x ");
    }
  });

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // rankdir: "TB" (top to bottom, the default) or "LR" (left to right), chosen by the buttons above the graph.
  function layout(model, rankdir) {
    var g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: rankdir, nodesep: 28, ranksep: 30, edgesep: 14, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(function () { return {}; });
    model.nodes.forEach(function (node, i) {
      var width = Math.max(node.name.length, node.sub.length) * CHAR + 20;
      g.setNode(String(i), { width: width, height: 2 * LINE + 10 });
    });
    model.edges.forEach(function (edge, i) {
      g.setEdge(String(edge[0]), String(edge[1]),
        { label: edge[2], width: edge[2].length * 6.8 + 8, height: LINE, labelpos: "c" }, "e" + i);
    });
    dagre.layout(g);
    return g;
  }

  // Blocks are told apart by colour, one per top-level name (`layer1` for `layer1.0.conv1`): dagre's compound
  // layout, which would box them, took minutes on ResNet-50.
  var TINTS = ["#eef4fb", "#fbf3e6", "#eef8ee", "#f6eefa", "#fbeef0", "#eefaf8"];
  function tint(node, groups) {
    var dot = node.name.indexOf(".");
    if (node.kind !== "layer" || dot < 0) { return ""; }
    var group = node.name.slice(0, dot);
    if (!(group in groups)) { groups[group] = Object.keys(groups).length % TINTS.length; }
    return ' style="fill:' + TINTS[groups[group]] + '"';
  }

  function svg(model, g) {
    var size = g.graph();
    var groups = {};
    var out = ['<svg xmlns="http://www.w3.org/2000/svg" width="' + Math.ceil(size.width) + '" height="' +
      Math.ceil(size.height) + '" viewBox="0 0 ' + Math.ceil(size.width) + " " + Math.ceil(size.height) + '">',
      '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" ' +
      'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8a96a3"/></marker></defs>'];
    model.edges.forEach(function (edge, i) {
      var e = g.edge(String(edge[0]), String(edge[1]), "e" + i);
      var d = e.points.map(function (p, k) { return (k ? "L" : "M") + p.x.toFixed(1) + "," + p.y.toFixed(1); });
      out.push('<path class="edge" marker-end="url(#arrow)" data-from="' + edge[0] + '" data-to="' + edge[1] +
        '" d="' + d.join(" ") + '"/>');
      out.push('<g class="label" data-from="' + edge[0] + '" data-to="' + edge[1] + '" transform="translate(' +
        (e.x - e.width / 2).toFixed(1) + "," + (e.y - e.height / 2).toFixed(1) + ')"><rect width="' + e.width +
        '" height="' + e.height + '"/><text x="' + (e.width / 2) + '" y="11" text-anchor="middle">' +
        esc(edge[2]) + "</text></g>");
    });
    model.nodes.forEach(function (node, i) {
      var n = g.node(String(i));
      out.push('<g class="node ' + node.kind + '" data-name="' + esc(node.name) + '" data-x="' + n.x.toFixed(1) +
        '" data-y="' + n.y.toFixed(1) + '" transform="translate(' + (n.x - n.width / 2).toFixed(1) + "," +
        (n.y - n.height / 2).toFixed(1) + ')"><title>' + esc(node.name + ": " + node.shape.join("x")) +
        '</title><rect rx="4"' + tint(node, groups) + ' width="' + n.width + '" height="' + n.height + '"/><text class="t" x="' +
        (n.width / 2) + '" y="17" text-anchor="middle">' + esc(node.name) + '</text><text class="s" x="' +
        (n.width / 2) + '" y="' + (17 + LINE) + '" text-anchor="middle">' + esc(node.sub) + "</text></g>");
    });
    out.push("</svg>");
    return out.join("");
  }

  var box = document.getElementById("graph-box");
  if (box) {
    var drawn = {}; // the SVG per direction: laid out once, redrawn at once when the reader switches back
    var draw = function (rankdir) {
      if (!(rankdir in drawn)) {
        var started = Date.now();
        drawn[rankdir] = svg(data.graph, layout(data.graph, rankdir));
        box.setAttribute("data-layout-ms", String(Date.now() - started));
      }
      box.innerHTML = drawn[rankdir];
      box.setAttribute("data-rankdir", rankdir);
      document.querySelectorAll("[data-rankdir-button]").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.getAttribute("data-rankdir-button") === rankdir));
      });
    };
    draw("TB");
    document.documentElement.setAttribute("data-graph", "drawn");
    document.querySelectorAll("[data-rankdir-button]").forEach(function (button) {
      button.addEventListener("click", function () { draw(button.getAttribute("data-rankdir-button")); });
    });
    box.addEventListener("click", function (e) {
      var node = e.target.closest && e.target.closest(".node.layer");
      var row = node && document.getElementById("layer-" + node.getAttribute("data-name"));
      if (row) { row.scrollIntoView({ block: "center" }); }
    });
  }
})();
