/*
 * The verify page (verify.html): reads a record from the file input or the
 * textarea, runs RuxueVerify.verifyRecord (verify-draw.js) and shows the
 * verdict in Simplified Chinese. Optionally checks the announcement's JWS.
 * Everything happens in this browser; nothing is sent anywhere.
 */
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);

  // Names of the result's members, for people.
  const MEMBER_NAMES = {
    version: '算法版本（version）',
    draw_id: '批次编号（draw_id）',
    announcement_digest: '公告摘要（announcement_digest）',
    seed: '随机种子（seed）',
    lottery: '派位顺序（lottery）',
    lottery_numbers: '派位号（lottery_numbers）',
    assignments: '录取名单（assignments）',
    unassigned: '未录取名单（unassigned）',
    waitlists: '候补名单（waitlists）',
    result: '结果（result）',
  };

  function show(v) {
    if (v === undefined) return '（无）';
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  /** One line, in Chinese, naming the first difference. */
  function describeDifference(d) {
    const parts = [];
    parts.push(MEMBER_NAMES[d.member] || d.member || d.path);
    if (d.school !== undefined) parts.push('学校 ' + d.school);
    if (d.index !== undefined && d.expected_length === undefined) parts.push('第 ' + (d.index + 1) + ' 位');
    if (d.applicant !== undefined && d.member === 'lottery_numbers') parts.push('报名编号 ' + d.applicant);
    let what;
    if (d.expected !== undefined || d.found !== undefined) {
      what = '应为 ' + show(d.expected) + '，记录中为 ' + show(d.found);
    } else if (d.expected_length !== undefined) {
      what = '应有 ' + d.expected_length + ' 人，记录中有 ' + d.found_length + ' 人';
    } else {
      what = d.message;
    }
    return parts.join('，') + '：' + what;
  }

  function setState(el, state, text) {
    el.dataset.state = state;
    el.textContent = text;
    el.hidden = false;
  }

  function clearOutput() {
    for (const id of ['difference', 'details', 'schools', 'notes', 'signature-verdict']) $(id).hidden = true;
    $('details').textContent = '';
    $('notes').textContent = '';
    $('schools').tBodies[0].textContent = '';
  }

  function addDetail(label, value) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    $('details').append(dt, dd);
  }

  function render(r) {
    const verdict = $('verdict');
    if (r.ok) {
      setState(verdict, 'match', '一致：公布的结果与重新计算的结果完全相同。');
    } else if (r.difference) {
      setState(verdict, 'mismatch', '不一致：' + describeDifference(r.difference));
      const diff = $('difference');
      diff.textContent = '第一处差异（技术信息）：' + r.difference.path + ': ' + r.difference.message;
      diff.hidden = false;
    } else if (r.invalid) {
      setState(verdict, 'invalid', '记录无效，未计算：' + r.error);
      return;
    } else {
      setState(verdict, 'error', '出错：' + r.error);
      return;
    }
    addDetail('批次编号', r.draw_id);
    addDetail('公告摘要', r.announcement_digest);
    addDetail('名单人数', String(r.roster_size));
    addDetail('名单默克尔根', r.roster_root);
    addDetail('随机种子', r.seed);
    addDetail('结果摘要（重新计算）', r.result_digest);
    if (r.published_result_digest !== r.result_digest) addDetail('结果摘要（记录中公布的）', r.published_result_digest);
    addDetail('记录摘要', r.record_digest);
    addDetail('用时', (r.elapsed_ms / 1000).toFixed(2) + ' 秒');
    $('details').hidden = false;
    const body = $('schools').tBodies[0];
    for (const s of r.schools) {
      const tr = document.createElement('tr');
      for (const v of [s.school, s.seats, s.admitted, s.waitlist]) {
        const td = document.createElement('td');
        td.textContent = String(v);
        tr.append(td);
      }
      body.append(tr);
    }
    $('schools').hidden = false;
    const notes = $('notes');
    for (const s of r.sources) {
      const li = document.createElement('li');
      li.textContent = s.commitment === 'matches'
        ? '随机来源 ' + s.name + '：揭示值与公告中的承诺值一致。'
        : '随机来源 ' + s.name + '：没有承诺值，请到公共信标的官方渠道查出该轮数值，与记录中的数值逐字比对' +
          (s.drand ? '（本页面不核验 drand 签名）' : '') + '。';
      notes.append(li);
    }
    notes.hidden = false;
  }

  function renderSignature(s) {
    const el = $('signature-verdict');
    if (s.supported === false) setState(el, 'unsupported', '此浏览器不支持 Ed25519 签名验证，公告签名未核验（not supported by this browser）。');
    else if (s.ok) setState(el, 'valid', '公告签名有效，且签名的公告与记录中的公告一致（公告摘要 ' + s.announcement_digest + '）。');
    else if (s.signature_valid && s.matches_record === false) setState(el, 'invalid', '公告签名有效，但签名的公告与记录中的公告不一致：' + s.error);
    else setState(el, 'invalid', '公告签名无效：' + s.error);
  }

  let file = null;

  async function recordInput() {
    if (file) return new Uint8Array(await file.arrayBuffer());
    return $('record-text').value;
  }

  async function run() {
    const button = $('verify');
    button.disabled = true;
    clearOutput();
    setState($('verdict'), 'running', '正在重新计算……');
    try {
      const input = await recordInput();
      if (typeof input === 'string' && input.trim() === '') {
        setState($('verdict'), 'idle', '请先选择或粘贴一份派位记录。');
        return;
      }
      const r = await window.RuxueVerify.verifyRecord(input);
      render(r);
      const jws = $('jws').value.trim();
      if (jws !== '') {
        renderSignature(await window.RuxueVerify.verifyAnnouncementSignature(jws, $('jwk').value.trim(), input));
      }
    } catch (e) {
      setState($('verdict'), 'error', '出错：' + (e && e.message ? e.message : String(e)));
    } finally {
      button.disabled = false;
    }
  }

  // `?draw={id}`: open a published draw from this server — its record, its
  // signed announcement and the bureau's key — and verify it at once.
  async function openDraw(id) {
    const base = new URL('../api/v1/', window.location.href);
    const get = async (path, what) => {
      const r = await fetch(new URL(path, base), { cache: 'no-store' });
      if (!r.ok) throw new Error('无法取得' + what + '（HTTP ' + r.status + '）');
      return r.text();
    };
    setState($('verdict'), 'running', '正在取得派位 ' + id + ' 的记录、公告和公钥……');
    try {
      const enc = encodeURIComponent(id);
      const [record, ann, keys] = await Promise.all([
        get('draws/' + enc + '/record', '派位记录'),
        get('draws/' + enc + '/announcement', '公告'),
        get('keys', '公钥'),
      ]);
      $('record-text').value = record;
      $('jws').value = JSON.parse(ann).jws;
      const k = JSON.parse(keys).keys;
      $('jwk').value = JSON.stringify(k && k.length ? k[0] : {});
      $('signature').open = true;
    } catch (e) {
      setState($('verdict'), 'error', '出错：' + (e && e.message ? e.message : String(e)));
      return;
    }
    await run();
  }

  function init() {
    $('record-file').addEventListener('change', (ev) => {
      file = ev.target.files && ev.target.files.length > 0 ? ev.target.files[0] : null;
      $('clear-file').hidden = file === null;
      $('record-text').disabled = file !== null;
    });
    $('clear-file').addEventListener('click', () => {
      file = null;
      $('record-file').value = '';
      $('clear-file').hidden = true;
      $('record-text').disabled = false;
    });
    $('verify').addEventListener('click', run);
    if (!window.RuxueVerify) {
      setState($('verdict'), 'error', '核验程序 verify-draw.js 没有加载成功。');
      return;
    }
    $('verify').disabled = false;
    const draw = new URLSearchParams(window.location.search).get('draw');
    if (draw && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(draw)) {
      openDraw(draw).finally(() => { document.body.dataset.ready = 'true'; document.body.dataset.opened = draw; });
      return;
    }
    // For tests and scripts: the page is ready.
    document.body.dataset.ready = 'true';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
