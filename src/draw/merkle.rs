//! RFC 6962 Merkle tree hash over the roster, spec `draw-v1.md` §3.
//!
//! Leaf `i` is `CJSON(roster[i])`; `MTH([d]) = SHA-256(0x00 || d)` and for
//! n > 1, with k the largest power of two smaller than n,
//! `MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.
//! Inclusion proofs (audit paths) follow RFC 6962 §2.1.1, and their
//! verification the algorithm of RFC 9162 §2.1.3.2.

use sha2::{Digest, Sha256};

/// A 32-byte SHA-256 digest.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// Merkle tree hash over already-hashed leaves. The empty tree hashes to
/// `SHA-256("")` as in RFC 6962 (the draw never uses it: rosters are non-empty).
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root_from_leaf_hashes(&leaves[..k]), &root_from_leaf_hashes(&leaves[k..]))
        }
    }
}

/// Merkle tree hash over raw leaves.
pub fn root<D: AsRef<[u8]>>(leaves: &[D]) -> Hash {
    let hashes: Vec<Hash> = leaves.iter().map(|d| leaf_hash(d.as_ref())).collect();
    root_from_leaf_hashes(&hashes)
}

/// RFC 6962 audit path `PATH(m, D[n])` for leaf `m`, bottom-up. `None` when
/// `m` is out of range.
pub fn audit_path(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    fn rec(leaves: &[Hash], m: usize, path: &mut Vec<Hash>) {
        let n = leaves.len();
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            rec(&leaves[..k], m, path);
            path.push(root_from_leaf_hashes(&leaves[k..]));
        } else {
            rec(&leaves[k..], m - k, path);
            path.push(root_from_leaf_hashes(&leaves[..k]));
        }
    }
    rec(leaves, m, &mut path);
    Some(path)
}

/// Recompute the root from a leaf hash and its audit path (RFC 9162
/// §2.1.3.2). Returns `None` when the path has the wrong shape for
/// (`index`, `size`).
pub fn root_from_path(leaf: &Hash, index: u64, size: u64, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return None;
    }
    Some(r)
}

/// True when `path` proves that `leaf` is leaf `index` of a tree of `size`
/// leaves with root `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    root_from_path(leaf, index, size, path).is_some_and(|r| &r == root)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 6962 test tree of Certificate Transparency (spec §3).
    fn ct_leaves() -> Vec<Vec<u8>> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect()
    }

    #[test]
    fn ct_test_tree_root() {
        assert_eq!(hex::encode(root(&ct_leaves())), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    }

    #[test]
    fn ct_known_roots_of_prefixes() {
        // Roots of the first n leaves, from the Certificate Transparency test suite.
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = ct_leaves();
        for n in 1..=8 {
            assert_eq!(hex::encode(root(&leaves[..n])), expected[n - 1], "n = {n}");
        }
    }

    #[test]
    fn ct_audit_paths() {
        let leaves: Vec<Hash> = ct_leaves().iter().map(|d| leaf_hash(d)).collect();
        // PATH(0, D[8]) from RFC 6962 test data.
        let p = audit_path(&leaves, 0).unwrap();
        let hexes: Vec<String> = p.iter().map(hex::encode).collect();
        assert_eq!(
            hexes,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        );
        for size in 1..=leaves.len() {
            let r = root_from_leaf_hashes(&leaves[..size]);
            for m in 0..size {
                let p = audit_path(&leaves[..size], m).unwrap();
                assert!(verify_inclusion(&leaves[m], m as u64, size as u64, &p, &r));
                assert!(!verify_inclusion(&leaves[(m + 1) % 8], m as u64, size as u64, &p, &r));
                if size > 1 {
                    assert!(!verify_inclusion(&leaves[m], ((m + 1) % size) as u64, size as u64, &p, &r));
                }
            }
        }
    }
}
