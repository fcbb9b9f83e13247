/* The sampler's page: scan tags, take and upload photos, locate the phone (custody.js). */
(function () {
  "use strict";
  var C = window.InspectaCustody;
  var form = document.getElementById("record-form");
  if (!form || !C) return;
  var tags = document.getElementById("id_tags");
  var count = document.getElementById("id_count");
  var pending = 0;

  function lines() { return tags.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function showCount() {
    var n = lines().length;
    document.getElementById("tag-count").textContent = "已录入 " + n + " 个，试件 " + (count.value || 0) + " 个。";
  }
  tags.addEventListener("input", showCount);
  count.addEventListener("input", showCount);
  showCount();

  function error(text) {
    var box = document.getElementById("record-error");
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  // tags by camera
  var video = document.getElementById("scan-video");
  var start = document.getElementById("scan-start");
  var stop = document.getElementById("scan-stop");
  var scan = C.scanner(video, function (code) {
    if (lines().indexOf(code) === -1) {
      tags.value = (lines().concat([code])).join("\n");
      showCount();
      if (navigator.vibrate) navigator.vibrate(80);
    }
  });
  start.addEventListener("click", function () {
    error("");
    scan.start().then(function () {
      video.classList.remove("d-none"); stop.classList.remove("d-none"); start.classList.add("d-none");
    }, function (e) { error(e.message); });
  });
  stop.addEventListener("click", function () {
    scan.stop(); video.classList.add("d-none"); stop.classList.add("d-none"); start.classList.remove("d-none");
  });

  // photos through tus
  function photos(inputId, listId) {
    var input = document.getElementById(inputId);
    var target = document.getElementById(input.getAttribute("data-target"));
    var list = document.getElementById(listId);
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) {
        var cell = document.createElement("div");
        cell.className = "col-4";
        var img = document.createElement("img");
        img.className = "img-fluid rounded";
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        var state = document.createElement("div");
        state.className = "small text-secondary";
        state.textContent = "上传中 0%";
        cell.appendChild(img); cell.appendChild(state); list.appendChild(cell);
        pending += 1;
        C.uploadFile(file, function (p) { state.textContent = "上传中 " + p + "%"; }).then(function (done) {
          var ids = target.value ? target.value.split(",") : [];
          ids.push(done.id);
          target.value = ids.join(",");
          state.textContent = "已上传";
          state.setAttribute("data-uploaded", done.id);
        }, function (e) { state.textContent = e.message; state.className = "small text-danger"; }).then(function () { pending -= 1; });
      });
      input.value = "";
    });
  }
  photos("specimen-input", "specimen-list");
  photos("placard-input", "placard-list");

  // position
  var geo = document.getElementById("geo-status");
  function locate() {
    geo.textContent = "正在获取手机位置…";
    C.locate().then(function (p) {
      document.getElementById("id_latitude").value = p.latitude;
      document.getElementById("id_longitude").value = p.longitude;
      document.getElementById("id_accuracy_m").value = p.accuracy;
      geo.textContent = "已定位：" + p.latitude + ", " + p.longitude + "（精度约 " + p.accuracy + " 米）";
      geo.setAttribute("data-located", "1");
    }, function (e) { geo.textContent = e.message; geo.className = "mb-2 text-danger"; });
  }
  document.getElementById("geo-retry").addEventListener("click", locate);
  locate();

  form.addEventListener("submit", function (event) {
    if (pending > 0) { event.preventDefault(); error("照片还在上传，请稍候再提交。"); }
  });
})();
