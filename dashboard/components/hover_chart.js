// A Plotly figure drawn by Plotly.js in the page, with a card (an image and a few lines) beside the point
// under the pointer, and the clicked point's position sent back to Python (dashboard/components/hover_chart.py).
//
// data: {figure: Plotly's JSON of the figure, cards: [{src, alt, lines}] by a point's customdata[0],
//        plotly: the address of plotly.min.js (served by this Streamlit server: no internet needed), revision}
// Text of the cards is set with textContent only: class names are text a user typed.

const ROOT_CLASS = "cnn-hover-chart";

function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__cnnPlaygroundPlotly) {
    window.__cnnPlaygroundPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("no Plotly")));
      script.onerror = () => {
        window.__cnnPlaygroundPlotly = null; // a later draw tries again
        reject(new Error("not loaded"));
      };
      document.head.appendChild(script);
    });
  }
  return window.__cnnPlaygroundPlotly;
}

function element(tag, className, parent) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (parent) parent.appendChild(made);
  return made;
}

function build(parentElement) {
  const root = element("div", ROOT_CLASS, parentElement);
  root.plot = element("div", "cnn-hover-chart-plot", root);
  const card = element("div", "cnn-hover-card", root);
  card.setAttribute("role", "tooltip");
  card.hidden = true;
  card.image = element("img", "", card);
  card.image.width = 84;
  card.image.height = 84;
  card.lines = element("div", "cnn-hover-card-lines", card);
  root.card = card;
  root.problem = element("p", "cnn-hover-chart-problem", root);
  root.problem.hidden = true;
  return root;
}

// The figure as Plotly draws it here: the card replaces Plotly's own hover label on points that have one.
function drawnTraces(figure) {
  return (figure.data || []).map((trace) => {
    if (!Array.isArray(trace.customdata) || trace.hoverinfo === "skip") return trace;
    const copy = { ...trace, hoverinfo: "none" };
    delete copy.hovertemplate;
    return copy;
  });
}

function showCard(root, point) {
  const data = root.current;
  const position = Array.isArray(point.customdata) ? point.customdata[0] : null;
  const found = data && Number.isInteger(position) ? data.cards[position] : null;
  const card = root.card;
  if (!found) {
    card.hidden = true;
    return;
  }
  if (found.src) {
    card.image.src = found.src;
    card.image.alt = found.alt || "";
    card.image.hidden = false;
  } else {
    card.image.removeAttribute("src");
    card.image.alt = "";
    card.image.hidden = true;
  }
  card.lines.replaceChildren(
    ...(found.lines || []).map((line) => {
      const row = document.createElement("div");
      row.textContent = String(line);
      return row;
    }),
  );
  card.hidden = false;
  // Beside the point, inside the chart: to its right, or to its left near the right edge.
  const x = point.xaxis._offset + point.xaxis.l2p(point.x);
  const y = point.yaxis._offset + point.yaxis.l2p(point.y);
  const gap = 14;
  const width = card.offsetWidth;
  const height = card.offsetHeight;
  const left = x + gap + width > root.clientWidth ? Math.max(0, x - gap - width) : x + gap;
  const top = Math.min(Math.max(0, y - height / 2), Math.max(0, root.clientHeight - height));
  card.style.left = `${left}px`;
  card.style.top = `${top}px`;
}

function draw(root, Plotly) {
  const data = root.current;
  const figure = data.figure || {};
  // The page's own font; the same zoom and pan after a redraw (a click redraws the figure with its ring).
  const font = { family: getComputedStyle(root).fontFamily, ...((figure.layout || {}).font || {}) };
  const given = figure.layout || {};
  const margin = { ...(given.margin || {}), t: Math.max((given.margin || {}).t || 0, 28) }; // room for the mode bar
  const layout = { ...given, font, margin, uirevision: data.revision };
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  const gd = root.plot;
  return Plotly.react(gd, drawnTraces(figure), layout, config).then(() => {
    if (gd.cnnHandlers) return;
    gd.cnnHandlers = true;
    gd.on("plotly_hover", (event) => {
      const point = event && event.points && event.points[0];
      if (point) showCard(root, point);
    });
    gd.on("plotly_unhover", () => {
      root.card.hidden = true;
    });
    gd.on("plotly_click", (event) => {
      const point = event && event.points && event.points[0];
      const position = point && Array.isArray(point.customdata) ? point.customdata[0] : null;
      if (Number.isInteger(position)) root.setStateValue("selected", position);
    });
  });
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const root = parentElement.querySelector(`.${ROOT_CLASS}`) || build(parentElement);
  root.current = data;
  root.setStateValue = setStateValue;
  root.card.hidden = true;
  loadPlotly(data.plotly)
    .then((Plotly) => draw(root, Plotly))
    .catch(() => {
      root.problem.textContent =
        "The map could not be drawn: this page could not load its chart library. Reload the page to try again.";
      root.problem.hidden = false;
    });
}
