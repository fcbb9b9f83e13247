/* The receiver's page: one scanner for tags, the seal (SEAL1:) and the deliverer's code
 * (HANDOVER1:); photos through tus; accept or refuse through the API. */
(function () {
  "use strict";
  var C = window.InspectaCustody;
  if (!document.getElementById("receive-card") || !C) return;
  var sample = null;
  var scanned = [];
  var seal = "";
  var handover = "";
  var photoIds = [];
  var delivererId = null;
  var pending = 0;
  var box = document.getElementById("receive-error");
  function error(text) { box.textContent = text || ""; box.classList.toggle("d-none", !text); }

  function renderTags() {
    var list = document.getElementById("tag-list");
    list.innerHTML = "";
    sample.tags.forEach(function (t) {
      var li = document.createElement("li");
      var ok = scanned.indexOf(t.tag_id) !== -1;
      li.textContent = (ok ? "✔ " : "○ ") + t.tag_id;
      li.className = ok ? "text-success" : "text-secondary";
      list.appendChild(li);
    });
    scanned.filter(function (s) { return !sample.tags.some(function (t) { return t.tag_id === s; }); }).forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = "✘ " + s + "（不属于该样品）";
      li.className = "text-danger";
      list.appendChild(li);
    });
  }

  function take(code) {
    code = code.trim();
    if (!code) return;
    error("");
    if (code.indexOf("SEAL1:") === 0) {
      seal = code;
      document.getElementById("seal-state").textContent = "电子封志：已扫描，提交时核验";
      return;
    }
    if (code.indexOf("HANDOVER1:") === 0) {
      handover = code;
      document.getElementById("handover-state").textContent = "送样人身份码：已扫描";
      return;
    }
    if (!sample) {
      C.api("GET", "/api/v1/sampling/tags/" + encodeURIComponent(code)).then(function (data) {
        sample = data;
        scanned = [code];
        document.getElementById("sample-card").classList.remove("d-none");
        document.getElementById("sample-title").textContent = "样品 " + data.code_display;
        document.getElementById("sample-summary").textContent = data.project_name + " · " + data.test_item_name + " · " + data.part + " · 试件 " + data.count + " 个 · " + data.status_display;
        renderTags();
      }, function (e) { error(e.message); });
      return;
    }
    if (scanned.indexOf(code) === -1) scanned.push(code);
    renderTags();
  }

  var video = document.getElementById("scan-video");
  var start = document.getElementById("scan-start");
  var stop = document.getElementById("scan-stop");
  var scan = C.scanner(video, function (code) { if (navigator.vibrate) navigator.vibrate(80); take(code); });
  start.addEventListener("click", function () {
    scan.start().then(function () {
      video.classList.remove("d-none"); stop.classList.remove("d-none"); start.classList.add("d-none");
    }, function (e) { error(e.message); });
  });
  stop.addEventListener("click", function () {
    scan.stop(); video.classList.add("d-none"); stop.classList.add("d-none"); start.classList.remove("d-none");
  });
  document.getElementById("manual-go").addEventListener("click", function () {
    var input = document.getElementById("manual-code");
    take(input.value);
    input.value = "";
  });

  function upload(input, status, done) {
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        pending += 1;
        C.uploadFile(file, function (p) { status.textContent = "上传中 " + p + "%"; }).then(function (f) {
          done(f.id);
          status.textContent = "已上传";
        }, function (e) { status.textContent = e.message; }).then(function () { pending -= 1; });
      });
      input.value = "";
    });
  }
  upload(document.getElementById("receipt-input"), document.getElementById("receipt-status"), function (id) { photoIds.push(id); });
  upload(document.getElementById("deliverer-input"), document.getElementById("deliverer-status"), function (id) { delivererId = id; });

  function submit(accept) {
    error("");
    if (!sample) { error("请先扫描试件标识。"); return; }
    if (pending) { error("照片还在上传，请稍候。"); return; }
    if (!handover) { error("请扫描送样人的一次性身份码。"); return; }
    if (!delivererId) { error("请拍摄送样人照片。"); return; }
    var body = {
      accept: accept, tags: scanned, seal: seal, handover: handover, deliverer_photo_id: delivererId,
      photo_ids: photoIds, appearance: document.getElementById("appearance").value, reasons: document.getElementById("reasons").value,
    };
    C.api("POST", "/api/v1/sampling/samples/" + sample.id + "/receipt", body).then(function () {
      window.location.href = "/sampling/" + sample.id + "/";
    }, function (e) { error(e.message); });
  }
  document.getElementById("accept").addEventListener("click", function () { submit(true); });
  document.getElementById("refuse").addEventListener("click", function () { submit(false); });
})();
