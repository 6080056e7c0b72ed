//! What any engine under the store must do, written once as generic functions (each test
//! of `engine` runs them against sled; another engine runs the same). Each panics with
//! what went wrong.

use std::collections::BTreeMap;

use super::{KvEngine, KvTree, TreeWrites, Value};

fn bytes(v: &[(Value, Value)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    v.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

fn all(it: super::Iter) -> Vec<(Value, Value)> {
    it.map(|r| r.expect("scan")).collect()
}

/// Keys come back in byte order, forward and backward, by range and by prefix.
pub fn ordered_scans<E: KvEngine>(engine: &E) {
    let t = engine.open_tree("scans").expect("tree");
    assert!(t.is_empty(), "a new tree is empty");
    for k in [&b"b2"[..], b"a", b"b10", b"b1", b"c", b"\x00", b"\xff"] {
        t.insert(k, k.to_vec()).expect("insert");
    }
    let keys = |it| all(it).into_iter().map(|(k, _)| k.to_vec()).collect::<Vec<_>>();
    let order: Vec<Vec<u8>> = [&b"\x00"[..], b"a", b"b1", b"b10", b"b2", b"c", b"\xff"].map(|k| k.to_vec()).to_vec();
    assert_eq!(keys(t.iter()), order, "iter: byte order");
    assert_eq!(keys(Box::new(t.iter().rev())), order.iter().rev().cloned().collect::<Vec<_>>(), "reversed");
    assert_eq!(keys(t.scan_prefix(b"b1")), vec![b"b1".to_vec(), b"b10".to_vec()], "prefix");
    assert_eq!(keys(t.range(&b"b"[..]..&b"c"[..])), vec![b"b1".to_vec(), b"b10".to_vec(), b"b2".to_vec()], "half-open");
    assert_eq!(keys(t.range(&b"b10"[..]..=&b"c"[..])), vec![b"b10".to_vec(), b"b2".to_vec(), b"c".to_vec()], "closed");
    assert_eq!(keys(t.range(&b"b2"[..]..)).first().cloned(), Some(b"b2".to_vec()), "from a key");
    assert_eq!(keys(Box::new(t.range(..&b"b2"[..]).rev())).first().cloned(), Some(b"b10".to_vec()), "before a key");
    assert_eq!(t.last().expect("last").map(|(k, _)| k.to_vec()), Some(b"\xff".to_vec()));
    assert_eq!(t.len(), 7);
    // Big-endian numbers sort as numbers: the store's keys rely on it.
    let n = engine.open_tree("numbers").expect("tree");
    for x in [300u64, 2, 1 << 40, 0, 256] {
        n.insert(x.to_be_bytes(), vec![]).expect("insert");
    }
    let got: Vec<u64> =
        all(n.iter()).iter().map(|(k, _)| u64::from_be_bytes(k.as_ref().try_into().expect("8"))).collect();
    assert_eq!(got, vec![0, 2, 256, 300, 1 << 40]);
}

/// A tree reads back what was written, not what was removed, and trees are apart.
pub fn reads_writes_and_removals<E: KvEngine>(engine: &E) {
    let a = engine.open_tree("a").expect("tree");
    let b = engine.open_tree("b").expect("tree");
    a.insert(b"k", b"one".to_vec()).expect("insert");
    assert_eq!(a.get(b"k").expect("get").as_deref(), Some(&b"one"[..]));
    assert!(a.contains_key(b"k").expect("contains"));
    assert_eq!(b.get(b"k").expect("get"), None, "another tree does not see it");
    a.insert(b"k", b"two".to_vec()).expect("insert");
    assert_eq!(a.get(b"k").expect("get").as_deref(), Some(&b"two"[..]), "an insert replaces");
    a.insert(b"empty", Vec::new()).expect("insert");
    assert_eq!(a.get(b"empty").expect("get").as_deref(), Some(&b""[..]), "an empty value is a value");
    a.remove(b"k").expect("remove");
    assert_eq!(a.get(b"k").expect("get"), None);
    assert!(!a.contains_key(b"k").expect("contains"));
    a.remove(b"never").expect("removing a missing key is no error");
    let again = engine.open_tree("a").expect("tree");
    assert_eq!(again.get(b"empty").expect("get").as_deref(), Some(&b""[..]), "the same name, the same tree");
}

/// One commit sets and removes keys in several trees; an empty one does nothing.
pub fn atomic_commit<E: KvEngine>(engine: &E) {
    let a = engine.open_tree("commit-a").expect("tree");
    let b = engine.open_tree("commit-b").expect("tree");
    a.insert(b"gone", b"x".to_vec()).expect("insert");
    let mut wa: TreeWrites = BTreeMap::new();
    wa.insert(Value::from(&b"k1"[..]), Some(Value::from(&b"v1"[..])));
    wa.insert(Value::from(&b"gone"[..]), None);
    let mut wb: TreeWrites = BTreeMap::new();
    wb.insert(Value::from(&b"k2"[..]), Some(Value::from(&b"v2"[..])));
    let empty: TreeWrites = BTreeMap::new();
    engine.commit(&[(&a, &wa), (&b, &wb), (&a, &empty)]).expect("commit");
    assert_eq!(bytes(&all(a.iter())), vec![(b"k1".to_vec(), b"v1".to_vec())]);
    assert_eq!(bytes(&all(b.iter())), vec![(b"k2".to_vec(), b"v2".to_vec())]);
    engine.commit(&[]).expect("nothing to commit");
}

/// The counter only grows, also when the engine is opened again.
pub fn ids_grow_across_reopening<E: KvEngine>(open: impl Fn() -> E) {
    let first: Vec<u64> = {
        let e = open();
        let ids = (0..5).map(|_| e.next_id().expect("id")).collect();
        e.flush().expect("flush");
        ids
    };
    assert!(first.windows(2).all(|w| w[1] > w[0]), "{first:?}");
    let e = open();
    let next = e.next_id().expect("id");
    assert!(next > first[4], "after reopening: {next} after {first:?}");
}

/// What was flushed is there after the engine is dropped and opened again.
pub fn flushed_writes_survive_reopening<E: KvEngine>(open: impl Fn() -> E) {
    {
        let e = open();
        let t = e.open_tree("kept").expect("tree");
        let mut w: TreeWrites = BTreeMap::new();
        w.insert(Value::from(&b"k"[..]), Some(Value::from(&b"v"[..])));
        e.commit(&[(&t, &w)]).expect("commit");
        t.insert(b"direct", b"d".to_vec()).expect("insert");
        e.flush().expect("flush");
    }
    let e = open();
    let t = e.open_tree("kept").expect("tree");
    assert_eq!(t.get(b"k").expect("get").as_deref(), Some(&b"v"[..]));
    assert_eq!(t.get(b"direct").expect("get").as_deref(), Some(&b"d"[..]));
}
