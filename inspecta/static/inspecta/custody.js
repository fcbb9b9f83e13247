/* Phone pages of the chain of custody: photos sent through tus (a dropped connection
 * resumes where it stopped), the phone's position, QR tags scanned with the camera, and
 * confirmations with a passkey (passkey.js) or the TOTP fallback. No framework. */
(function () {
  "use strict";

  function csrf() {
    var holder = document.querySelector("[data-csrf]");
    return holder ? holder.getAttribute("data-csrf") : "";
  }

  function api(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf(), Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.headers["Idempotency-Key"] = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var message = (data && data.error && data.error.message) || "请求失败（" + response.status + "），请稍后重试。";
          throw new Error(message);
        }
        return data;
      });
    });
  }

  var token = null;
  var asking = null;
  function uploadToken() {
    if (token && token.until > Date.now()) return Promise.resolve(token.value);
    if (!asking) {
      asking = api("POST", "/api/v1/exchange/upload-tokens", {}).then(function (data) {
        token = { value: data.token, until: Date.now() + (data.expires_in - 60) * 1000 };
        asking = null;
        return token.value;
      }, function (e) { asking = null; throw e; });
    }
    return asking;
  }

  /* Uploads run one after another: on a weak connection parallel uploads only slow
   * each other down, and a dropped connection resumes the one in progress. */
  var queue = Promise.resolve();

  /* Upload one file through tus; resolves to {id, sha256}. onProgress(0..100). */
  function uploadFile(file, onProgress) {
    var run = queue.then(function () { return uploadOne(file, onProgress); });
    queue = run.catch(function () {});
    return run;
  }

  function uploadOne(file, onProgress) {
    return uploadToken().then(function (bearer) {
      return new Promise(function (resolve, reject) {
        var upload = new window.tus.Upload(file, {
          endpoint: "/api/v1/uploads/",
          retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
          chunkSize: 512 * 1024,
          headers: { Authorization: "Bearer " + bearer },
          metadata: { filename: file.name || "photo.jpg", filetype: file.type || "" },
          storeFingerprintForResuming: true,
          removeFingerprintOnSuccess: true,
          onProgress: function (sent, total) { if (onProgress) onProgress(Math.floor((sent / total) * 100)); },
          onError: function () { reject(new Error("照片上传失败，请检查网络后重试；已上传的部分会继续。")); },
          onSuccess: function (payload) {
            var response = payload && payload.lastResponse;
            var id = response && response.getHeader("Inspecta-File-Id");
            var sha = response && response.getHeader("Inspecta-File-SHA256");
            if (id) { resolve({ id: id, sha256: sha }); return; }
            fetch(upload.url, { headers: { Authorization: "Bearer " + bearer, "Tus-Resumable": "1.0.0" } })
              .then(function (r) { return r.json(); })
              .then(function (data) { resolve({ id: data.file.id, sha256: data.file.sha256 }); }, reject);
          },
        });
        upload.findPreviousUploads().then(function (previous) {
          if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
          upload.start();
        });
      });
    });
  }

  /* The phone's position: resolves to {latitude, longitude, accuracy}. */
  function locate() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error("此浏览器不能定位，请换用手机浏览器。")); return; }
      navigator.geolocation.getCurrentPosition(
        function (p) {
          resolve({ latitude: p.coords.latitude.toFixed(6), longitude: p.coords.longitude.toFixed(6), accuracy: Math.round(p.coords.accuracy) });
        },
        function () { reject(new Error("无法获取位置：请在手机设置中允许本网站使用定位，然后重试。")); },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
      );
    });
  }

  /* Scan QR codes with the camera into onCode(text) until stop() is called. */
  function scanner(video, onCode) {
    var stream = null;
    var running = false;
    var canvas = document.createElement("canvas");
    var last = "";
    function tick() {
      if (!running) return;
      if (video.readyState === video.HAVE_ENOUGH_DATA) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        if (found && found.data && found.data !== last) { last = found.data; onCode(found.data); }
      }
      requestAnimationFrame(tick);
    }
    return {
      start: function () {
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
          return Promise.reject(new Error("此浏览器不能使用摄像头扫码，请手工输入标识。"));
        }
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
          stream = s;
          video.srcObject = s;
          video.setAttribute("playsinline", "");
          running = true;
          return video.play().then(tick);
        }, function () { throw new Error("无法打开摄像头：请允许本网站使用摄像头，或手工输入标识。"); });
      },
      stop: function () {
        running = false;
        if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
        stream = null;
      },
    };
  }

  /* Confirm a record: the challenge, then a passkey assertion (or the TOTP code), with the
   * live photo's file id and the position. */
  function confirm(challengeUrl, confirmUrl, livePhotoId, position, totpCode) {
    var body = { live_photo_id: livePhotoId, latitude: position.latitude, longitude: position.longitude, accuracy_m: position.accuracy };
    if (totpCode) {
      body.totp_code = totpCode;
      return api("POST", confirmUrl, body);
    }
    return api("GET", challengeUrl).then(function (data) {
      return window.InspectaPasskey.confirm(JSON.stringify(data.options));
    }).then(function (assertion) {
      body.assertion = typeof assertion === "string" ? JSON.parse(assertion) : assertion;
      return api("POST", confirmUrl, body);
    });
  }

  window.InspectaCustody = { api: api, uploadFile: uploadFile, locate: locate, scanner: scanner, confirm: confirm };
})();
