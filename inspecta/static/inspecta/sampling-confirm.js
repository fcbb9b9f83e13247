/* A confirmation of a custody record on the phone: live photo, position, passkey or TOTP. */
(function () {
  "use strict";
  var C = window.InspectaCustody;
  var card = document.getElementById("confirm-card");
  if (!card || !C) return;
  var photoId = null;
  var position = null;
  var passkey = document.getElementById("confirm-passkey");
  var totpGo = document.getElementById("confirm-totp-go");
  var box = document.getElementById("confirm-error");

  function error(text) { box.textContent = text || ""; box.classList.toggle("d-none", !text); }
  function ready() {
    var ok = Boolean(photoId && position);
    if (passkey) passkey.disabled = !ok;
    if (totpGo) totpGo.disabled = !ok;
  }

  document.getElementById("live-input").addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) return;
    var status = document.getElementById("live-status");
    photoId = null; ready();
    C.uploadFile(file, function (p) { status.textContent = "现场照片上传中 " + p + "%"; }).then(function (done) {
      photoId = done.id;
      status.textContent = "现场照片已上传";
      status.setAttribute("data-uploaded", done.id);
      ready();
    }, function (e) { status.textContent = e.message; });
  });

  var geo = document.getElementById("confirm-geo");
  function locate() {
    geo.textContent = "正在获取手机位置…";
    geo.className = "small text-secondary mb-2";
    C.locate().then(function (p) {
      position = p;
      geo.textContent = "已定位：" + p.latitude + ", " + p.longitude + "（精度约 " + p.accuracy + " 米）";
      ready();
    }, function (e) { geo.textContent = e.message; geo.className = "small text-danger mb-2"; });
  }
  document.getElementById("confirm-geo-retry").addEventListener("click", locate);
  locate();

  function go(totp) {
    error("");
    if (passkey) passkey.disabled = true;
    if (totpGo) totpGo.disabled = true;
    C.confirm(card.getAttribute("data-challenge-url"), card.getAttribute("data-confirm-url"), photoId, position, totp)
      .then(function () { window.location.reload(); }, function (e) { error(e.message); ready(); });
  }
  if (passkey) passkey.addEventListener("click", function () { go(""); });
  if (totpGo) totpGo.addEventListener("click", function () {
    var code = document.getElementById("confirm-totp").value.trim();
    if (!/^\d{6,8}$/.test(code)) { error("请输入 6 位动态口令。"); return; }
    go(code);
  });
})();
