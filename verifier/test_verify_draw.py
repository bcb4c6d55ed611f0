"""Tests of the independent verifier (standard library unittest only).

Run from the repository root:  python3 -m unittest discover -s verifier

The vectors are taken from tests/vectors/ of the repository, or, if that
directory is absent, from ../shared/spec/vectors beside the repository
(RUXUE_VECTORS=DIR overrides both).
"""

import base64
import copy
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPT = os.path.join(HERE, "verify_draw.py")
sys.path.insert(0, HERE)

import verify_draw as vd  # noqa: E402


def _vectors_dir():
    env = os.environ.get("RUXUE_VECTORS")
    if env:
        return env
    for cand in (os.path.join(REPO, "tests", "vectors"),
                 os.path.normpath(os.path.join(REPO, "..", "shared", "spec", "vectors"))):
        if os.path.isdir(cand) and any(f.endswith(".json") for f in os.listdir(cand)):
            return cand
    return None


VECTORS = _vectors_dir()


def _vector_files():
    if not VECTORS:
        return []
    return sorted(os.path.join(VECTORS, f) for f in os.listdir(VECTORS) if f.endswith(".json"))


def _invalid_files():
    d = os.path.join(VECTORS, "invalid") if VECTORS else None
    if not d or not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json"))


# Each invalid vector with words the verifier's message must contain.
INVALID_EXPECTED = {
    "byte-order-mark.json": ["byte-order mark"],
    "duplicate-id.json": ["roster[1]", "duplicate applicant id"],
    "duplicate-source-name.json": ["announcement.sources[1]", "duplicate source name", "witness-1"],
    "empty-draw-id.json": ["announcement.draw_id", "not a valid identifier"],
    "extra-member.json": ["roster[0]", "unexpected member", "weight"],
    "family-names-non-member.json": ["family"],
    "float-seats.json": ["seats", "1.0", "not an integer"],
    "missing-source.json": ["sources"],
    "negative-seats.json": ["seats", "-1", ">= 0"],
    "negative-zero.json": ["roster[1]", "-0", "not allowed"],
    "no-sources.json": ["announcement.sources", "must not be empty"],
    "non-ascii-key.json": ["announcement", "not printable ASCII"],
    "priority-missing.json": ["priority", "S02"],
    "repeated-key.json": ["duplicate member", "seats"],
    "too-deep.json": ["announcement.note", "nested deeper than 32"],
    "unknown-school.json": ["unknown school", "S99"],
    "unsorted-roster.json": ["not sorted"],
    "wrong-commitment.json": ["commitment"],
    "wrong-root.json": ["roster_root"],
    "wrong-size.json": ["roster_size"],
}


def _b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _fake_jws(announcement, payload=None):
    """A compact JWS of the announcement whose signature part is not a real
    signature: this verifier does not check Ed25519 (it says so)."""
    header = _b64url(b'{"alg":"EdDSA","kid":"test-key"}')
    body = _b64url(payload if payload is not None else vd.cjson(announcement))
    return "%s.%s.%s" % (header, body, _b64url(b"\x00" * 64))


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _dumps_canonical(x):
    return json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def run_main(argv, stdin_text=None):
    """Run verify_draw.main in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        code = vd.main(argv, out=out, err=err)
    except SystemExit as e:
        code = e.code
    return code, out.getvalue(), err.getvalue()


class TempFiles:
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, obj, raw=False):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(obj if raw else json.dumps(obj, ensure_ascii=False, indent=1))
        return path

    def verify_obj(self, obj, raw=False):
        return run_main([self.write("record.json", obj, raw=raw)])

    def rehash(self, rec):
        """After editing the roster or sources of a record, make the
        announcement consistent again (root, size, commitments)."""
        ann = rec["announcement"]
        ann["roster_size"] = len(rec["roster"])
        ann["roster_root"] = vd.merkle_root([vd.cjson(e) for e in rec["roster"]]).hex()
        for a, s in zip(ann["sources"], rec["sources"]):
            if "commitment" in a:
                a["commitment"] = vd.commitment_of(s["name"], s["value"])
        return rec


@unittest.skipUnless(VECTORS, "no vectors directory found")
class TestVectors(TempFiles, unittest.TestCase):

    def test_vectors_present(self):
        self.assertTrue(_vector_files(), "no vectors in %s" % VECTORS)
        self.assertTrue(_invalid_files(), "no invalid vectors in %s/invalid" % VECTORS)
        # The spec publishes 6 valid and 20 invalid vectors (2026-12); a new
        # one must be counted (and given an expectation) here.
        self.assertEqual(len(_vector_files()), 6, _vector_files())
        self.assertEqual(len(_invalid_files()), 20, _invalid_files())
        self.assertEqual(sorted(os.path.basename(p) for p in _invalid_files()),
                         sorted(INVALID_EXPECTED))

    def test_every_invalid_vector_names_its_fault(self):
        for path in _invalid_files():
            name = os.path.basename(path)
            with self.subTest(vector=name):
                self.assertIn(name, INVALID_EXPECTED, "no expectation for %s" % name)
                # (verifying the input as a record is refused too, see
                # test_every_invalid_vector_exits_2; computing names the fault)
                code, out, err = run_main(["--compute", path])
                self.assertEqual(code, 2, out + err)
                self.assertEqual(out, "")
                for word in INVALID_EXPECTED[name]:
                    self.assertIn(word, err)

    def test_every_vector_verifies_with_expected_digest(self):
        for path in _vector_files():
            with self.subTest(vector=os.path.basename(path)):
                rec = _load(path)
                expected = hashlib.sha256(_dumps_canonical(rec["result"]).encode("utf-8")).hexdigest()
                code, out, err = run_main([path])
                self.assertEqual(code, 0, out + err)
                self.assertIn("result_digest: %s\n" % expected, out)
                self.assertIn("verdict: OK\n", out)
                self.assertIn("seed: %s\n" % rec["result"]["seed"], out)
                self.assertIn("announcement_digest: %s\n" % rec["result"]["announcement_digest"], out)

    def test_cjson_equals_json_dumps_on_vectors(self):
        for path in _vector_files() + _invalid_files():
            with self.subTest(vector=os.path.basename(path)):
                # (byte-order-mark.json is invalid for its first bytes only)
                with open(path, encoding="utf-8-sig") as f:
                    rec = json.load(f)
                if os.path.basename(path) == "float-seats.json":
                    # json.load reads 1.0 as a float, which has no CJSON form
                    self.assertRaises(vd.CJSONError, vd.cjson, rec)
                    continue
                for key, value in rec.items():
                    self.assertEqual(vd.cjson(value).decode("utf-8"), _dumps_canonical(value), key)
                    for e in (value if isinstance(value, list) else []):
                        self.assertEqual(vd.cjson(e).decode("utf-8"), _dumps_canonical(e))

    def test_every_invalid_vector_exits_2(self):
        for path in _invalid_files():
            with self.subTest(vector=os.path.basename(path)):
                code, out, err = run_main([path])
                self.assertEqual(code, 2, out + err)
                self.assertEqual(out, "")
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertTrue(err.startswith("invalid: "), err)
                code, out, err = run_main(["--compute", path])
                self.assertEqual(code, 2, out + err)
                self.assertEqual(out, "")

    def test_compute_reproduces_every_vector(self):
        for path in _vector_files():
            with self.subTest(vector=os.path.basename(path)):
                rec = _load(path)
                inp = {k: v for k, v in rec.items() if k != "result"}
                code, out, err = run_main(["--compute", self.write("in.json", inp)])
                self.assertEqual(code, 0, err)
                got = json.loads(out)
                self.assertEqual(_dumps_canonical(got), _dumps_canonical(rec))

    def test_inclusion_proofs(self):
        path = [p for p in _vector_files() if "04-" in p][0] if any("04-" in p for p in _vector_files()) \
            else _vector_files()[-1]
        rec = _load(path)
        d = vd.validate(rec, record=True)
        for i in range(0, len(rec["roster"]), 7):
            eid = rec["roster"][i]["id"]
            code, out, err = run_main(["--proof-for", eid, path])
            self.assertEqual(code, 0, err)
            proof = json.loads(out)
            self.assertEqual(proof["root"], rec["announcement"]["roster_root"])
            pf = self.write("proof.json", proof)
            code, out, err = run_main(["--proof", pf, path])
            self.assertEqual(code, 0, out + err)
            root_size = ["--root", rec["announcement"]["roster_root"],
                         "--size", str(rec["announcement"]["roster_size"])]
            code, out, err = run_main(["--proof", pf] + root_size)
            self.assertEqual(code, 0, out + err)
            # Without the announced root and size the proof is not checked:
            # never "ok" (this was exit 0 before the 2026-12 clarification).
            code, out, err = run_main(["--proof", pf])
            self.assertEqual(code, 3, out + err)
            self.assertNotIn("ok", out)
            # a changed entry, a wrong index or a changed path fails
            bad = copy.deepcopy(proof)
            bad["entry"]["prefs"] = list(reversed(bad["entry"]["prefs"])) + ["X"]
            self.assertEqual(run_main(["--proof", self.write("b.json", bad), path])[0], 1)
            self.assertEqual(run_main(["--proof", self.write("b.json", bad)] + root_size)[0], 1)
            if proof["tree_size"] > 1:
                bad = copy.deepcopy(proof)
                bad["leaf_index"] = (bad["leaf_index"] + 1) % bad["tree_size"]
                self.assertEqual(run_main(["--proof", self.write("b.json", bad), path])[0], 1)
                bad = copy.deepcopy(proof)
                bad["audit_path"][0] = "00" * 32
                self.assertEqual(run_main(["--proof", self.write("b.json", bad), path])[0], 1)
            # a proof against another root than the announced one fails
            other = copy.deepcopy(rec)
            other["announcement"]["roster_root"] = "11" * 32
            self.assertEqual(run_main(["--proof", pf, self.write("o.json", other)])[0], 1)
            # malformed proof: exit 2
            bad = copy.deepcopy(proof)
            bad["leaf_index"] = True
            self.assertEqual(run_main(["--proof", self.write("b.json", bad), path])[0], 2)
        self.assertEqual(len(d.leaf_hashes), len(rec["roster"]))

    def test_proof_with_a_false_tree_size(self):
        # The audit's case: one audit path can fit several tree sizes, so a
        # proof that carries a false tree_size (and its own root) checks out
        # on its own. Checked against the announced size it must fail.
        rec = _load([p for p in _vector_files() if "05-" in p][0])
        d = vd.validate(rec, record=True)
        n = len(d.ids)
        root = bytes.fromhex(d.roster_root)
        forged = []
        for i in range(n):
            path = vd.inclusion_path(d.leaf_hashes, i)
            for fake in range(i + 1, 2 * n):
                if fake != n and vd.verify_inclusion(i, fake, d.leaf_hashes[i], path, root):
                    forged.append((i, fake, path))
        self.assertTrue(forged, "expected a leaf whose path also fits another tree size")
        rec_path = self.write("rec.json", rec)
        for i, fake, path in forged[:5]:
            proof = {"leaf_index": i, "tree_size": fake, "entry": rec["roster"][i],
                     "audit_path": [h.hex() for h in path], "root": d.roster_root}
            pf = self.write("forged.json", proof)
            code, out, err = run_main(["--proof", pf, rec_path])
            self.assertEqual(code, 1, out + err)
            self.assertIn("tree_size", out)
            self.assertNotIn("ok", out)
            code, out, err = run_main(["--proof", pf, "--root", d.roster_root, "--size", str(n)])
            self.assertEqual(code, 1, out + err)

    def test_proof_against_a_signed_announcement(self):
        rec = _load(_vector_files()[0])
        eid = rec["roster"][0]["id"]
        rec_path = self.write("rec.json", rec)
        code, out, err = run_main(["--proof-for", eid, rec_path])
        pf = self.write("proof.json", json.loads(out))
        jws = self.write("ann.jws", _fake_jws(rec["announcement"]), raw=True)
        code, out, err = run_main(["--proof", pf, jws])
        self.assertEqual(code, 0, out + err)
        self.assertIn("proof: ok", out)
        other = copy.deepcopy(rec["announcement"])
        other["roster_size"] += 1
        jws = self.write("ann.jws", _fake_jws(other), raw=True)
        self.assertEqual(run_main(["--proof", pf, jws])[0], 1)

    def test_self_test_with_vectors(self):
        code, out, err = run_main(["--self-test", "--vectors", VECTORS])
        self.assertEqual(code, 0, out + err)
        self.assertIn("self-test: all passed", out)


@unittest.skipUnless(VECTORS, "no vectors directory found")
class TestTampering(TempFiles, unittest.TestCase):
    """Every change to a published record must make the verifier fail."""

    def base(self):
        files = _vector_files()
        # a vector with several schools, families and a non-empty waitlist
        for name in ("05-", "04-", "06-"):
            for p in files:
                if os.path.basename(p).startswith(name):
                    return _load(p)
        return _load(files[-1])

    def assertFails(self, rec, code=None):
        got, out, err = self.verify_obj(rec)
        if code is None:
            self.assertIn(got, (1, 2), out + err)
        else:
            self.assertEqual(got, code, out + err)
        if got == 1:
            self.assertIn("verdict: MISMATCH\n", out)
            self.assertIn("\nmismatch: ", out)
        return out + err

    def test_untampered_passes(self):
        code, out, err = self.verify_obj(self.base())
        self.assertEqual(code, 0, out + err)

    def test_change_one_lottery_number(self):
        rec = self.base()
        first = rec["result"]["lottery"][0]
        rec["result"]["lottery_numbers"][first] += 1
        msg = self.assertFails(rec, 1)
        self.assertIn("lottery_numbers", msg)
        self.assertIn(first, msg)

    def test_lottery_number_of_wrong_type(self):
        for bad in (True, "1", 1.0):
            rec = self.base()
            first = rec["result"]["lottery"][0]
            self.assertEqual(rec["result"]["lottery_numbers"][first], 1)
            rec["result"]["lottery_numbers"][first] = bad
            self.assertFails(rec, 1)

    def test_swap_two_lottery_entries(self):
        rec = self.base()
        lot = rec["result"]["lottery"]
        lot[0], lot[1] = lot[1], lot[0]
        self.assertIn("result.lottery[0]", self.assertFails(rec, 1))

    def test_swap_two_assigned_ids(self):
        rec = self.base()
        a = rec["result"]["assignments"]
        full = [s for s in a if a[s]]
        self.assertGreaterEqual(len(full), 2)
        s1, s2 = full[0], full[1]
        a[s1][0], a[s2][0] = a[s2][0], a[s1][0]
        msg = self.assertFails(rec, 1)
        self.assertIn("result.assignments.%s[0]" % s1, msg)

    def test_swap_order_within_a_school(self):
        rec = self.base()
        a = rec["result"]["assignments"]
        s = [s for s in a if len(a[s]) >= 2][0]
        a[s][0], a[s][1] = a[s][1], a[s][0]
        self.assertFails(rec, 1)

    def test_move_applicant_to_unassigned(self):
        rec = self.base()
        a = rec["result"]["assignments"]
        s = [s for s in a if a[s]][0]
        rec["result"]["unassigned"].append(a[s].pop())
        self.assertFails(rec, 1)

    def test_alter_a_committed_source_value(self):
        rec = self.base()
        k = [i for i, s in enumerate(rec["announcement"]["sources"]) if "commitment" in s][0]
        rec["sources"][k]["value"] += "0"
        msg = self.assertFails(rec, 2)
        self.assertIn("commitment", msg)

    def test_alter_the_beacon_value(self):
        rec = self.base()
        k = [i for i, s in enumerate(rec["announcement"]["sources"]) if "commitment" not in s][-1]
        rec["sources"][k]["value"] += "0"
        self.assertIn("result.seed", self.assertFails(rec, 1))

    def test_alter_seats(self):
        rec = self.base()
        rec["announcement"]["schools"][0]["seats"] += 1
        self.assertIn("result.announcement_digest", self.assertFails(rec, 1))

    def test_alter_seats_and_republish_digests(self):
        # Even if the forger recomputes digest and seed, the assignment must
        # follow the new seats: recompute honestly, then restore the old
        # assignments and check they are refused.
        rec = self.base()
        s0 = [s for s in rec["announcement"]["schools"] if s["seats"] > 0][0]
        s0["seats"] -= 1
        d = vd.validate(rec, record=True)
        honest = vd.compute_result(d)
        old = rec["result"]
        old["announcement_digest"], old["seed"] = honest["announcement_digest"], honest["seed"]
        old["lottery"], old["lottery_numbers"] = honest["lottery"], honest["lottery_numbers"]
        msg = self.assertFails(rec, 1)
        self.assertIn("result.assignments", msg)

    def test_alter_a_roster_entry(self):
        rec = self.base()
        e = rec["roster"][len(rec["roster"]) // 2]
        s = e["prefs"][0]
        e["priority"][s] = [0]
        self.assertIn("roster_root", self.assertFails(rec, 2))

    def test_alter_a_roster_entry_and_root(self):
        rec = self.rehash(self.base())
        self.assertEqual(self.verify_obj(rec)[0], 0)
        e = rec["roster"][len(rec["roster"]) // 2]
        e["priority"][e["prefs"][0]] = [-100]
        self.rehash(rec)
        self.assertFails(rec, 1)

    def test_remove_a_waitlist_member(self):
        rec = self.base()
        w = rec["result"]["waitlists"]
        s = [s for s in w if w[s]][0]
        gone = w[s].pop(len(w[s]) // 2)
        msg = self.assertFails(rec, 1)
        self.assertIn("result.waitlists.%s" % s, msg)
        self.assertIn(gone, msg)

    def test_add_a_waitlist_member(self):
        rec = self.base()
        w = rec["result"]["waitlists"]
        s = [s for s in w if w[s]][0]
        w[s].append(w[s][0])
        self.assertFails(rec, 1)

    def test_extra_result_member(self):
        rec = self.base()
        rec["result"]["note"] = "x"
        self.assertIn("unexpected member", self.assertFails(rec, 1))

    def test_missing_result_member(self):
        rec = self.base()
        del rec["result"]["waitlists"]
        self.assertFails(rec, 1)

    def test_result_not_an_object(self):
        rec = self.base()
        rec["result"] = []
        self.assertFails(rec, 1)

    def test_record_without_result_is_invalid(self):
        rec = self.base()
        del rec["result"]
        self.assertFails(rec, 2)


@unittest.skipUnless(VECTORS, "no vectors directory found")
class TestValidation(TempFiles, unittest.TestCase):
    """Type and structure rules of spec section 2 (each must give exit 2)."""

    def base(self):
        return self.rehash(_load(_vector_files()[0]))

    def refused(self, rec, fragment=None, raw=False):
        code, out, err = self.verify_obj(rec, raw=raw)
        self.assertEqual(code, 2, out + err)
        self.assertEqual(len(err.strip().splitlines()), 1)
        if fragment:
            self.assertIn(fragment, err)
        return err

    def test_bool_seats(self):
        rec = self.base()
        rec["announcement"]["schools"][0]["seats"] = True
        self.refused(rec, "seats")

    def test_float_seats(self):
        rec = self.base()
        text = json.dumps(rec).replace('"seats": 1', '"seats": 1.0', 1)
        self.refused(text, "seats", raw=True)

    def test_exponent_seats(self):
        rec = self.base()
        text = json.dumps(rec).replace('"seats": 1', '"seats": 1e0', 1)
        self.refused(text, "seats", raw=True)

    def test_integer_out_of_range(self):
        rec = self.base()
        e = rec["roster"][0]
        e["priority"][e["prefs"][0]] = [2 ** 53]
        self.refused(rec)
        e["priority"][e["prefs"][0]] = [-(2 ** 53 - 1)]
        self.rehash(rec)
        self.assertNotEqual(self.verify_obj(rec)[0], 2)   # in range: valid (result differs)

    def test_bool_priority(self):
        rec = self.base()
        e = rec["roster"][0]
        e["priority"][e["prefs"][0]] = [True]
        self.refused(rec, "priority")

    def test_float_in_free_announcement_member(self):
        rec = self.base()
        rec["announcement"]["weight"] = 7
        self.rehash(rec)
        text = json.dumps(rec).replace('"weight": 7', '"weight": 0.5')
        self.refused(text, "announcement", raw=True)

    def test_nan(self):
        rec = self.base()
        text = json.dumps(rec).replace('"seats": 1', '"seats": NaN', 1)
        self.refused(text, raw=True)

    def test_duplicate_key(self):
        rec = self.base()
        text = json.dumps(rec).replace('"seats": 1', '"seats": 1, "seats": 1', 1)
        self.refused(text, "twice", raw=True)

    def test_not_json(self):
        self.refused("{", raw=True)

    def test_extra_member_in_school(self):
        rec = self.base()
        rec["announcement"]["schools"][0]["name"] = "x"
        self.refused(rec, "unexpected member")

    def test_extra_member_in_revealed_source(self):
        rec = self.base()
        rec["sources"][0]["when"] = "x"
        self.refused(rec, "unexpected member")

    def test_extra_top_level_member(self):
        rec = self.base()
        rec["signature"] = "x"
        self.refused(rec, "unexpected member")

    def test_free_announcement_members_allowed(self):
        rec = self.base()
        rec["announcement"]["policy"] = {"name": "房户一致", "n": 3}
        rec["announcement"]["sources"][-1]["round"] = 123
        rec = self.rehash(rec)
        d = vd.validate(rec, record=True)
        rec["result"] = vd.compute_result(d)
        self.assertEqual(self.verify_obj(rec)[0], 0)

    def test_bad_ids(self):
        for bad in ("", "-R1", "R 1", "R1\n", "Ｒ1", "R" * 65, 12):
            with self.subTest(bad=bad):
                rec = self.base()
                rec["roster"][0]["id"] = bad
                if isinstance(bad, str):
                    self.rehash(rec)
                self.refused(rec, "roster[0]")
        rec = self.base()
        rec["announcement"]["schools"][0]["id"] = "S 1"
        self.refused(rec, "identifier")

    def test_id_of_64_characters_is_allowed(self):
        rec = self.base()
        rec["roster"][0]["id"] = "A" + "a" * 63  # still sorts first (upper case)
        rec = self.rehash(rec)
        self.assertNotEqual(self.verify_obj(rec)[0], 2)

    def test_prefs_rules(self):
        rec = self.base()
        e = rec["roster"][0]
        e["prefs"] = []
        e["priority"] = {}
        self.refused(rec, "prefs")
        rec = self.base()
        e = rec["roster"][0]
        e["prefs"] = [e["prefs"][0], e["prefs"][0]]
        self.refused(rec, "twice")

    def test_priority_extra_school(self):
        rec = self.base()
        e = rec["roster"][0]
        other = [s["id"] for s in rec["announcement"]["schools"] if s["id"] not in e["prefs"]]
        if other:
            e["priority"][other[0]] = [1]
            self.refused(rec, "priority")

    def test_priority_not_a_list(self):
        rec = self.base()
        e = rec["roster"][0]
        e["priority"][e["prefs"][0]] = 1
        self.refused(rec, "priority")

    def test_empty_roster_and_schools(self):
        rec = self.base()
        rec["roster"] = []
        self.refused(rec, "roster")
        rec = self.base()
        rec["announcement"]["schools"] = []
        self.refused(rec, "schools")

    def test_duplicate_school(self):
        rec = self.base()
        rec["announcement"]["schools"].append(dict(rec["announcement"]["schools"][0]))
        self.refused(rec, "duplicate school")

    def test_wrong_version(self):
        rec = self.base()
        rec["announcement"]["version"] = "ruxue-draw-v2"
        self.refused(rec, "version")

    def test_source_names_and_order(self):
        rec = self.base()
        if len(rec["sources"]) >= 2:
            rec["sources"].reverse()
            self.refused(rec, "name")
        rec = self.base()
        rec["sources"][0]["value"] = 5
        self.refused(rec, "value")

    def test_family_rules(self):
        rec = self.base()
        ids = [e["id"] for e in rec["roster"]]
        rec["roster"][0]["family"] = "Z-nobody"
        self.refused(self.rehash(rec), "family")
        rec = self.base()
        if len(ids) >= 2:
            rec["roster"][1]["family"] = ids[0]   # ids[0] does not carry the family
            self.refused(self.rehash(rec), "family")
            rec["roster"][0]["family"] = ids[0]   # now it does: valid
            self.rehash(rec)
            d = vd.validate(rec, record=True)
            res = vd.compute_result(d)
            self.assertEqual(res["lottery_numbers"][ids[0]], res["lottery_numbers"][ids[1]])

    def test_integer_forms(self):
        # -0, 2^64 and beyond: named as what they are (the audit found 2^64
        # reported as a float by the Rust engine; the verifier agrees now).
        rec = self.base()
        plain = json.dumps(rec)
        self.assertIn('"seats": 1', plain)
        for num, words in (("-0", ["-0", "not allowed"]),
                           ("18446744073709551616", ["18446744073709551616", "out of range"]),
                           ("-9007199254740992", ["out of range"]),
                           ("1" * 60, ["out of range"]),
                           ("1e0", ["not an integer"]),
                           ("1.0", ["not an integer"])):
            with self.subTest(num=num):
                err = self.refused(plain.replace('"seats": 1', '"seats": %s' % num, 1), "seats",
                                   raw=True)
                for w in words:
                    self.assertIn(w, err)
        # a -0 in a free member of the announcement is refused too
        rec["announcement"]["note"] = [0]
        self.rehash(rec)
        text = json.dumps(rec).replace('"note": [0]', '"note": [-0]')
        self.assertIn("-0", self.refused(text, "announcement", raw=True))
        # but "-0" as a string is text, not a number
        rec = self.base()
        rec["announcement"]["note"] = {"-0": "1.5"}
        rec = self.rehash(rec)
        rec["result"] = vd.compute_result(vd.validate(rec, record=True))
        self.assertEqual(self.verify_obj(rec)[0], 0)

    def test_keys_are_printable_ascii_everywhere(self):
        cases = [
            lambda r: r["announcement"].__setitem__("标题", "x"),
            lambda r: r["announcement"].__setitem__("policy", {"a": {"é": 1}}),
            lambda r: r["announcement"]["sources"][-1].__setitem__("说明", "x"),
            lambda r: r["announcement"].__setitem__("\x7f", 1),
            lambda r: r["announcement"].__setitem__("\t", 1),
            lambda r: r["roster"][0].__setitem__("姓名", "x"),
            lambda r: r["result"].__setitem__("é", 1),
            lambda r: r["result"]["lottery_numbers"].__setitem__("é", 1),
            lambda r: r.__setitem__("é", 1),
        ]
        for k, edit in enumerate(cases):
            with self.subTest(case=k):
                rec = self.base()
                edit(rec)
                self.refused(rec, "not printable ASCII")
        # printable ASCII keys, space and tilde included, are fine
        rec = self.base()
        rec["announcement"]["note"] = {" ": 1, "~": "北京时间"}
        rec = self.rehash(rec)
        rec["result"] = vd.compute_result(vd.validate(rec, record=True))
        self.assertEqual(self.verify_obj(rec)[0], 0)

    def test_nesting_limit(self):
        # Level 1 is the record, 2 the announcement, 3 its member `note`:
        # k nested arrays put the innermost at level 2 + k.
        for k, ok in ((30, True), (31, False), (2000, False), (200000, False)):
            with self.subTest(k=k):
                rec = self.base()
                rec["announcement"]["note"] = "NOTE"
                rec = self.rehash(rec)
                text = json.dumps(rec).replace('"NOTE"', "[" * k + "1" + "]" * k)
                if ok:
                    code, out, err = self.verify_obj(text, raw=True)
                    self.assertNotEqual(code, 2, err)
                    self.assertNotIn("nested", err)
                else:
                    # exit 2 with one line, never an internal error (RecursionError)
                    self.assertIn("nested deeper than 32", self.refused(text, raw=True))
        rec = self.base()
        text = json.dumps(rec).replace('"result": {', '"result": {"x": %s1%s, ' % ("{\"a\":" * 40, "}" * 40), 1)
        self.assertIn("nested deeper than 32", self.refused(text, raw=True))

    def test_deep_input_through_the_real_command_line(self):
        # The audit's case: a deeply nested file made the verifier exit 3
        # with "internal error: RecursionError".
        rec = self.base()
        rec["announcement"]["note"] = "NOTE"
        text = json.dumps(rec).replace('"NOTE"', "[" * 100000 + "]" * 100000)
        path = self.write("deep.json", text, raw=True)
        for argv in ([path], ["--compute", path], ["--announcement-digest", path]):
            p = subprocess.run([sys.executable, SCRIPT] + argv, capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertNotIn("internal error", p.stderr)
            self.assertIn("nested deeper than 32", p.stderr)

    def test_identifiers_and_sources(self):
        for bad in ("", "-x", "a b", "北京", "D" * 65):
            with self.subTest(draw_id=bad):
                rec = self.base()
                rec["announcement"]["draw_id"] = bad
                self.refused(rec, "announcement.draw_id")
        rec = self.base()
        rec["announcement"]["sources"][0]["name"] = rec["sources"][0]["name"] = "witness 1"
        self.refused(self.rehash(rec), "announcement.sources[0].name")
        rec = self.base()
        if len(rec["sources"]) >= 2:
            name = rec["sources"][0]["name"]
            rec["announcement"]["sources"][1]["name"] = rec["sources"][1]["name"] = name
            self.refused(self.rehash(rec), "duplicate source name")
        rec = self.base()
        rec["announcement"]["sources"] = []
        rec["sources"] = []
        self.refused(self.rehash(rec), "must not be empty")

    def test_byte_order_mark(self):
        rec = self.base()
        self.refused("\ufeff" + json.dumps(rec), "byte-order mark", raw=True)

    def test_lone_surrogate(self):
        rec = self.base()
        text = json.dumps(rec).replace('"value": "', '"value": "\\ud800', 1)
        self.refused(text, raw=True)


QUICKNET = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
# Round 657413 of quicknet (beacon-drand.md).
SIG_657413 = ("b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
              "41076862b98fad56e91a6b85b89cd97b")


@unittest.skipUnless(VECTORS, "no vectors directory found")
class TestDigestsAndChecks(TempFiles, unittest.TestCase):
    """record_digest, the list of checks made and not made, drand sources
    and signed announcements (whose signatures this verifier leaves to
    `ruxue draw verify`)."""

    def base(self):
        return _load(_vector_files()[0])

    def test_record_digest(self):
        for path in _vector_files():
            with self.subTest(vector=os.path.basename(path)):
                rec = _load(path)
                canonical = _dumps_canonical(rec).encode("utf-8")
                digest = hashlib.sha256(canonical).hexdigest()
                code, out, err = run_main([path])
                self.assertEqual(code, 0, out + err)
                # the vectors are pretty-printed: the digest is of their canonical form
                self.assertIn("record_digest: %s (of the record's canonical form" % digest, out)
                canon_path = self.write("canon.json", canonical.decode("utf-8"), raw=True)
                code, out, err = run_main([canon_path])
                self.assertEqual(code, 0, out + err)
                self.assertIn("record_digest: %s (the file is exactly CJSON(record))" % digest, out)

    def test_checks_are_listed(self):
        code, out, err = run_main([_vector_files()[0]])
        self.assertEqual(code, 0, out + err)
        self.assertIn("checked: input rules and roster root and size; result recomputed; "
                      "commitments (1: witness-1)\n", out)
        self.assertIn("not checked here: announcement signature (no --announcement given", out)
        self.assertIn('source "beacon" (no commitment and no drand round', out)

    def drand_record(self, value=SIG_657413, chain=QUICKNET, drand=None):
        rec = self.base()
        src = rec["announcement"]["sources"][-1]
        src["drand"] = drand if drand is not None else {"chain_hash": chain, "round": 657413}
        rec["sources"][-1]["value"] = value
        rec = self.rehash(rec)
        rec["result"] = vd.compute_result(vd.validate(rec, record=True))
        return rec

    def test_drand_source_says_what_is_not_checked(self):
        code, out, err = self.verify_obj(self.drand_record())
        self.assertEqual(code, 0, out + err)
        self.assertIn('not checked here: beacon drand quicknet round 657413 (source "beacon"): '
                      'its BLS signature', out)
        self.assertIn("ruxue draw verify", out)

    def test_drand_source_rules(self):
        for kw, word in ((dict(value="9f1c0d2e"), "96 lower-case hex"),
                         (dict(value=SIG_657413.upper()), "96 lower-case hex"),
                         (dict(chain="11" * 32), "quicknet"),
                         (dict(drand={"chain_hash": QUICKNET}), "round"),
                         (dict(drand={"chain_hash": QUICKNET, "round": "1"}), "round"),
                         (dict(drand={"chain_hash": QUICKNET, "round": 0}), "round"),
                         (dict(drand={"chain_hash": QUICKNET, "round": 1, "x": 1}), "unexpected")):
            with self.subTest(case=kw):
                with self.assertRaises(vd.InvalidInput) as cm:
                    self.drand_record(**kw)
                self.assertIn(word, str(cm.exception))

    def test_signed_announcement_payload_is_compared(self):
        rec = self.base()
        path = self.write("rec.json", rec)
        jws = self.write("ann.jws", _fake_jws(rec["announcement"]), raw=True)
        code, out, err = run_main([path, "--announcement", jws])
        self.assertEqual(code, 0, out + err)
        digest = rec["result"]["announcement_digest"]
        self.assertIn("record's announcement is the payload of the signed announcement "
                      "(digest %s)" % digest, out)
        self.assertIn("not checked here: announcement signature (Ed25519, key id test-key)", out)
        # another announcement, a non-canonical payload, not a JWS
        other = copy.deepcopy(rec["announcement"])
        other["schools"][0]["seats"] += 1
        jws = self.write("ann.jws", _fake_jws(other), raw=True)
        code, out, err = run_main([path, "--announcement", jws])
        self.assertEqual(code, 1, out + err)
        self.assertIn("is not the signed announcement", out)
        pretty = json.dumps(rec["announcement"], indent=1).encode("utf-8")
        jws = self.write("ann.jws", _fake_jws(None, payload=pretty), raw=True)
        code, out, err = run_main([path, "--announcement", jws])
        self.assertEqual(code, 2, out + err)
        self.assertIn("canonical", err)
        for junk in ("", "a.b", "{}", "a.b.c.d"):
            jws = self.write("ann.jws", junk, raw=True)
            self.assertEqual(run_main([path, "--announcement", jws])[0], 2, junk)


class TestPrimitives(unittest.TestCase):

    def test_chacha_zero_seed(self):
        self.assertEqual(vd.Rng(bytes(32)).next_u64(), 0x903DF1A0ADE0B876)

    def test_self_test(self):
        code, out, err = run_main(["--self-test"])
        self.assertEqual(code, 0, out)

    def test_ct_root(self):
        leaves = [bytes.fromhex(h) for h in vd.CT_TEST_LEAVES]
        self.assertEqual(vd.merkle_root(leaves).hex(), vd.CT_TEST_ROOT)

    def test_cjson_escapes(self):
        s = "a\"b\\c/\b\f\n\r\t\x00\x1f\x7f\u2028é😀"
        self.assertEqual(vd.cjson(s), ('"a\\"b\\\\c/\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\u2028é😀"').encode())
        self.assertEqual(vd.cjson(s).decode(), _dumps_canonical(s))
        self.assertEqual(vd.cjson({"b": 1, "a": [True, None, -3]}), b'{"a":[true,null,-3],"b":1}')
        # The specification sorts names by code point, as Python's sort_keys
        # does (RFC 8785's UTF-16 order would put U+1F600 before U+FB01; an
        # earlier version of the verifier did, which the audit found).
        self.assertEqual(vd.cjson({"\ufb01": 1, "\U0001f600": 2}), '{"ﬁ":1,"😀":2}'.encode())
        self.assertEqual(vd.cjson({"\ufb01": 1, "\U0001f600": 2}).decode(),
                         _dumps_canonical({"\ufb01": 1, "\U0001f600": 2}))

    def test_uniform_rejection(self):
        class Fixed(vd.Rng):
            def __init__(self, values):
                self.values = list(values)

            def next_u64(self):
                return self.values.pop(0)
        m = 3
        limit = (1 << 64) - (1 << 64) % m
        self.assertEqual(Fixed([limit, limit + 1, 7]).uniform(m), 1)
        self.assertEqual(Fixed([limit - 1]).uniform(m), (limit - 1) % m)

    def test_commit_cli(self):
        code, out, _ = run_main(["--commit", "witness-1", "73920145"])
        self.assertEqual(code, 0)
        self.assertEqual(out, "commitment: b30e40357dfbfb90cd0ddb8623fafb3a4f8dcc20942dd985b36567d309f37c94\n")


def _reference_da(roster, schools, numbers):
    """Naive round-based deferred acceptance, for comparison."""
    seats = {s["id"]: s["seats"] for s in schools}
    key = {(e["id"], s): (e["priority"][s], numbers[e["id"]], e["id"]) for e in roster for s in e["prefs"]}
    prefs = {e["id"]: e["prefs"] for e in roster}
    nxt = {e["id"]: 0 for e in roster}
    held = {s: [] for s in seats}
    free = [e["id"] for e in roster]
    while True:
        proposals = {s: [] for s in seats}
        proposed = False
        for a in free:
            if nxt[a] < len(prefs[a]):
                proposals[prefs[a][nxt[a]]].append(a)
                nxt[a] += 1
                proposed = True
        if not proposed:
            break
        free = []
        for s in seats:
            pool = sorted(held[s] + proposals[s], key=lambda a: key[(a, s)])
            held[s] = pool[:seats[s]]
            free.extend(pool[seats[s]:])
    return held


class TestRandomDraws(TempFiles, unittest.TestCase):
    """Random small draws: the matching is the same as a naive deferred
    acceptance, stable, and the waitlists follow the definition."""

    def make(self, rnd):
        ns = rnd.randint(1, 5)
        schools = [{"id": "S%d" % i, "seats": rnd.randint(0, 4)} for i in range(ns)]
        ids = sorted(set("A%03d" % rnd.randrange(500) for _ in range(rnd.randint(1, 25))))
        roster = []
        for i in ids:
            prefs = rnd.sample([s["id"] for s in schools], rnd.randint(1, ns))
            roster.append({"id": i, "prefs": prefs,
                           "priority": {p: [rnd.randint(1, 3)] * rnd.randint(0, 2) for p in prefs}})
        for k in range(0, len(roster) - 1, 5):
            if rnd.random() < 0.5:
                roster[k]["family"] = roster[k]["id"]
                roster[k + 1]["family"] = roster[k]["id"]
        rec = {"announcement": {"version": vd.VERSION, "draw_id": "T", "schools": schools,
                                "roster_root": "", "roster_size": 0,
                                "sources": [{"name": "w", "commitment": ""}, {"name": "beacon"}]},
               "roster": roster,
               "sources": [{"name": "w", "value": str(rnd.random())},
                           {"name": "beacon", "value": "%x" % rnd.getrandbits(64)}]}
        return self.rehash(rec)

    def test_random_draws(self):
        rnd = random.Random(20270601)
        for trial in range(150):
            rec = self.make(rnd)
            d = vd.validate(rec)
            res = vd.compute_result(d)
            roster = rec["roster"]
            num = res["lottery_numbers"]
            # lottery: units numbered 1..m, family members share a number
            units = {e.get("family", e["id"]) for e in roster}
            self.assertEqual(sorted(set(num.values())), list(range(1, len(units) + 1)))
            for e in roster:
                if "family" in e:
                    self.assertEqual(num[e["id"]], num[e["family"]])
            self.assertEqual(res["lottery"], sorted(num, key=lambda a: (num[a], a)))
            # matching equals the naive reference
            ref = _reference_da(roster, rec["announcement"]["schools"], num)
            self.assertEqual(res["assignments"], ref, "trial %d" % trial)
            where = {a: s for s, l in res["assignments"].items() for a in l}
            self.assertEqual(res["unassigned"], [a for a in res["lottery"] if a not in where])
            seats = {s["id"]: s["seats"] for s in rec["announcement"]["schools"]}
            by_id = {e["id"]: e for e in roster}
            # stability: no applicant prefers a school that has a free seat
            # or holds someone it ranks below them
            for e in roster:
                a = e["id"]
                mine = e["prefs"].index(where[a]) if a in where else len(e["prefs"])
                for s in e["prefs"][:mine]:
                    held = res["assignments"][s]
                    self.assertEqual(len(held), seats[s])
                    k = (e["priority"][s], num[a], a)
                    for b in held:
                        self.assertLess((by_id[b]["priority"][s], num[b], b), k)
            # waitlists by definition, in ranking order
            for s in seats:
                listers = sorted((e for e in roster if s in e["prefs"]),
                                 key=lambda e: (e["priority"][s], num[e["id"]], e["id"]))
                wl = [e["id"] for e in listers if where.get(e["id"]) != s and
                      (e["id"] not in where or e["prefs"].index(s) < e["prefs"].index(where[e["id"]]))]
                self.assertEqual(res["waitlists"][s], wl)
            # and the verifier accepts the record it computes
            rec["result"] = res
            code, out, err = self.verify_obj(rec)
            self.assertEqual(code, 0, out + err)


@unittest.skipUnless(VECTORS, "no vectors directory found")
class TestCommandLine(unittest.TestCase):
    """The real CLI in a subprocess: exit codes and output lines."""

    def run_cli(self, *args, stdin=None):
        return subprocess.run([sys.executable, SCRIPT] + list(args), input=stdin,
                              capture_output=True, text=True, timeout=300)

    def test_verify_ok(self):
        path = _vector_files()[0]
        rec = _load(path)
        p = self.run_cli(path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        digest = hashlib.sha256(_dumps_canonical(rec["result"]).encode()).hexdigest()
        self.assertIn("result_digest: %s\n" % digest, p.stdout)
        for s in rec["announcement"]["schools"]:
            n = len(rec["result"]["assignments"][s["id"]])
            self.assertIn("school %s: admitted %d / seats %d," % (s["id"], n, s["seats"]), p.stdout)

    def test_stdin(self):
        path = _vector_files()[0]
        with open(path, encoding="utf-8") as f:
            p = self.run_cli("-", stdin=f.read())
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_mismatch_exit_1(self):
        rec = _load(_vector_files()[0])
        rec["result"]["unassigned"].append("Z")
        p = self.run_cli("-", stdin=json.dumps(rec))
        self.assertEqual(p.returncode, 1)
        self.assertIn("mismatch: result.unassigned", p.stdout)

    def test_invalid_exit_2(self):
        for path in _invalid_files()[:3]:
            p = self.run_cli(path)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stdout, "")
            self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        p = self.run_cli(os.path.join(VECTORS, "no-such-file.json"))
        self.assertEqual(p.returncode, 2)

    def test_proof_needs_the_announced_root_and_size(self):
        path = _vector_files()[0]
        rec = _load(path)
        p = self.run_cli("--proof-for", rec["roster"][0]["id"], path)
        self.assertEqual(p.returncode, 0, p.stderr)
        with tempfile.TemporaryDirectory() as tmp:
            pf = os.path.join(tmp, "proof.json")
            with open(pf, "w", encoding="utf-8") as f:
                f.write(p.stdout)
            for args in ([], ["--root", rec["announcement"]["roster_root"]],
                         ["--size", str(rec["announcement"]["roster_size"])]):
                q = self.run_cli("--proof", pf, *args)
                self.assertEqual(q.returncode, 3, q.stdout + q.stderr)
                self.assertNotIn("ok", q.stdout)
                self.assertIn("--size", q.stderr)
            q = self.run_cli("--proof", pf, "--root", rec["announcement"]["roster_root"],
                             "--size", str(rec["announcement"]["roster_size"]))
            self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
            self.assertIn("proof: ok", q.stdout)

    def test_compute_prints_cjson_and_digests(self):
        path = _vector_files()[0]
        rec = _load(path)
        inp = {k: v for k, v in rec.items() if k != "result"}
        p = self.run_cli("--compute", "-", stdin=json.dumps(inp, indent=2))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, _dumps_canonical(rec))
        digest = hashlib.sha256(p.stdout.encode("utf-8")).hexdigest()
        self.assertIn("record_digest: %s\n" % digest, p.stderr)
        self.assertIn("announcement_digest: %s\n" % rec["result"]["announcement_digest"], p.stderr)

    def test_usage_exit_3(self):
        self.assertEqual(self.run_cli().returncode, 3)
        self.assertEqual(self.run_cli("--no-such-option").returncode, 3)

    def test_self_test(self):
        p = self.run_cli("--self-test", "--vectors", VECTORS)
        self.assertEqual(p.returncode, 0, p.stdout)


if __name__ == "__main__":
    unittest.main()
