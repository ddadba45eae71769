// logicat's page: upload photos to /api/predict, one request per photo (4 at a time), and show
// the model's own description from /api/model. Plain JS, no build step, no external resources.
"use strict";

const MAX_PARALLEL = 4;
let limits = null;
let positive = "cat";

function $(selector) { return document.querySelector(selector); }

function percent(x) { return (100 * x).toFixed(2).replace(/\.?0+$/, "") + " %"; }

async function loadModel() {
  try {
    const response = await fetch("/api/model");
    const model = await response.json();
    if (!response.ok) throw new Error(model.detail || response.statusText);
    limits = model.limits;
    positive = model.positive_class;
    describe(model);
    // the output step in words: ensemble members, calibration, the class mix it decides at
    $("#model-output").textContent = model.output_description || "unknown";
    const metrics = model.metrics || {};
    const data = model.training_data || {};
    $("#train-accuracy").textContent =
      metrics.train_accuracy == null ? "unknown" : percent(metrics.train_accuracy / 100);
    $("#test-accuracy").textContent =
      metrics.test_accuracy == null ? "unknown" : percent(metrics.test_accuracy / 100);
    const unit = model.training_unit || "iteration";  // "epoch" for mini-batch training
    $("#final-cost").textContent = model.final_cost == null ? "unknown"
      : `${model.final_cost.toFixed(6)} after ${model.n_iter} ${unit}${model.n_iter === 1 ? "" : "s"}`;
    $("#learning-curve").alt = `Learning curve: cost against ${unit}`;
    $("#curve-caption").textContent = unit === "epoch"
      ? "Learning curve: the cost J after each epoch (the mean loss over its mini-batches)."
      : "Learning curve: the cost J after each gradient-descent step.";
    $("#training-data").textContent =
      data.file ? `${data.file} (${data.n_samples} images)` : "unknown";
    $("#training-sha256").textContent = data.sha256 || "unknown";
    showHyperparameters(model.hyperparameters || {});
    $("#limits-hint").textContent =
      `JPEG, PNG, GIF, WebP, ... up to ${(limits.max_upload_bytes / 1048576).toFixed(1)}\u00a0MiB ` +
      `and ${(limits.max_pixels / 1e6).toFixed(0)} megapixels each, ${limits.max_files} at a time ` +
      `(the server takes ${(limits.max_body_bytes / 1048576).toFixed(0)}\u00a0MiB of uploads ` +
      `at once, from everyone: beyond, it asks to retry)`;
  } catch (err) {
    $("#model-error").hidden = false;
    $("#model-error").textContent = `Could not load the model description: ${err.message}`;
  }
}

// One name: value pair per hyperparameter, kept together (a <div> in the <dl>) so that the pairs
// flow into two columns or one and a value never breaks mid-word; unset ones (null) are left out.
function showHyperparameters(hyperparameters) {
  const params = $("#hyperparameters");
  params.replaceChildren();
  for (const [key, value] of Object.entries(hyperparameters)) {
    if (value == null) continue;
    const pair = document.createElement("div");
    const term = document.createElement("dt");
    const detail = document.createElement("dd");
    term.textContent = key;
    detail.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    if (Array.isArray(value)) detail.className = "list";
    term.title = detail.title = `${key} = ${detail.textContent}`;
    pair.append(term, detail);
    params.append(pair);
  }
}

// The page says which model it serves: logistic regression or a network, and what its pictures
// show for that model.
function describe(model) {
  const arch = model.architecture;
  const size = model.preprocessing ? model.preprocessing.image_size : 64;
  // "12288 -> 1": a line may break before an arrow, never inside it
  $("#model-kind").replaceChildren(...arch.description.split("->").flatMap((part, i) => {
    if (i === 0) return [part];
    const arrow = document.createElement("span");
    arrow.className = "nowrap";
    arrow.textContent = "->";
    return [arrow, part];
  }));
  if (arch.kind === "convnet") {
    $("#lead").textContent =
      `A convolutional network on ${size}\u00d7${size} RGB images: blocks of 3\u00d73 ` +
      `convolutions (${arch.widths.join(", ")} channels), batch norm, ReLU and max-pooling, ` +
      "then one sigmoid output; trained with data augmentation. It says cat when p(cat) > 0.5.";
    $("#weights-caption").textContent =
      "Its first convolution's 3\u00d73 filters over R, G and B, each as a tiny image (grey: 0).";
  } else if (arch.kind === "layers") {
    $("#lead").textContent =
      `A network of its own ${arch.layers} layers on ${size}×${size} RGB images ` +
      "(the table of its layers: logicat info), then one sigmoid output; trained with data " +
      "augmentation. It says cat when p(cat) > 0.5.";
    $("#weights-caption").textContent =
      "Its first layer's weights: a convolution's filters over R, G and B, each as a tiny " +
      "image (grey: 0).";
  } else if (arch.kind === "network") {
    $("#lead").textContent =
      `A neural network with hidden layers of ${arch.hidden_layer_sizes.join(", ")} units ` +
      `(${arch.activation}) and one sigmoid output unit, trained on ${size}\u00d7${size} RGB ` +
      "images; it says cat when p(cat) > 0.5.";
    $("#weights-caption").textContent =
      `What its first layer learned: each of its ${arch.hidden_layer_sizes[0]} units' weights ` +
      `folded back into a ${size}\u00d7${size}\u00d73 image (grey: 0).`;
  } else {
    $("#lead").textContent =
      `A logistic-regression classifier: one weight per input value of a ${size}\u00d7${size} ` +
      "RGB image, a sigmoid, and a threshold at 0.5.";
    $("#weights-caption").textContent =
      `What it learned: the ${model.n_features.toLocaleString("en")} weights folded back into ` +
      `a ${size}\u00d7${size}\u00d73 image. Red pixels push p(${model.positive_class}) up, ` +
      "blue ones push it down.";
  }
}

function addCard(file) {
  const card = $("#result-template").content.firstElementChild.cloneNode(true);
  card.querySelector(".name").textContent = file.name;
  card.querySelector(".probability").textContent = "…";
  $("#results").append(card);
  return card;
}

function showResult(card, result) {
  const p = result.probability;
  card.classList.add(result.is_positive ? "cat" : "not-cat");
  card.dataset.probability = String(p);
  card.dataset.label = result.label;
  const seen = card.querySelector(".seen");
  seen.src = result.input_image;
  seen.alt = `${result.filename} as the model sees it: 64x64 pixels`;
  const why = card.querySelector(".why");
  why.src = result.explanation_image;
  why.alt = `why: the pixels of ${result.filename} that pushed p(${positive}) up (red) or down (blue)`;
  const method = {contributions: "contributions w·x", gradient_input: "gradient × input",
                  grad_cam: "Grad-CAM"}[result.explanation_method];
  card.querySelector(".meta").textContent =
    `left: what the model sees, 64×64 pixels · right: why (${method}): red pixels push ` +
    `p(${positive}) up, blue ones down · upload ${(result.bytes / 1024).toFixed(1)}\u00a0KiB`;
  card.querySelector(".fill").style.width = (100 * p).toFixed(1) + "%";
  card.querySelector(".bar").setAttribute("aria-valuenow", String(p));
  card.querySelector(".probability").textContent = `p(${positive}) = ${p.toFixed(4)}`;
  card.querySelector(".label").textContent = result.label;
}

function showError(card, message) {
  card.classList.add("failed");
  card.dataset.error = message;
  card.querySelector(".probability").textContent = "";
  card.querySelector(".label").textContent = message;
}

async function classify(file, card) {
  if (limits && file.size > limits.max_upload_bytes) {
    showError(card, `too large: ${file.size} bytes, the limit is ${limits.max_upload_bytes}`);
    return;
  }
  const form = new FormData();
  form.append("files", file, file.name);
  try {
    const response = await fetch("/api/predict?image=true&explain=true", { method: "POST", body: form });
    const answer = await response.json().catch(() => ({ detail: response.statusText }));
    if (!response.ok) throw new Error(answer.detail || `HTTP ${response.status}`);
    showResult(card, answer.results[0]);
  } catch (err) {
    showError(card, err.message);
  }
}

async function classifyAll(fileList) {
  const queue = Array.from(fileList).map((file) => [file, addCard(file)]).reverse();
  const worker = async () => {
    while (queue.length) {
      const [file, card] = queue.pop();
      await classify(file, card);
    }
  };
  await Promise.all(Array.from({ length: MAX_PARALLEL }, worker));
}

function setUp() {
  const drop = $("#drop");
  const input = $("#files");
  input.addEventListener("change", () => { classifyAll(input.files); input.value = ""; });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) classifyAll(event.dataTransfer.files);
  });
  loadModel();
}

setUp();
