/* A custody record on the phone (concrete batch on arrival, curing room, transport
   handover): every photo input with data-target uploads through tus into that hidden
   field; the phone's position fills the hidden position fields (custody.js). */
(function () {
  "use strict";
  var C = window.InspectaCustody;
  var form = document.getElementById("event-form");
  if (!form || !C) return;
  var pending = 0;

  function error(text) {
    var box = document.getElementById("event-error");
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[type=file][data-target]"), function (input) {
    var target = document.getElementById(input.getAttribute("data-target"));
    var list = document.getElementById(input.getAttribute("data-list"));
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
  });

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
