use super::*;

fn doc(post: u64, space: u64, lang: &str, body: &str) -> PostDoc {
    PostDoc {
        owner: 0,
        post,
        room: post * 10,
        space,
        public: space == 1,
        author: 1,
        created_us: i64::try_from(post).unwrap_or(0) * 1_000_000,
        lang: lang.into(),
        body: body.into(),
        title: None,
        translations: Vec::new(),
        title_translations: Vec::new(),
    }
}

fn index(docs: &[PostDoc]) -> SearchIndex {
    let ix = SearchIndex::in_ram(&Options::default()).expect("index");
    for d in docs {
        ix.put(d).expect("put");
    }
    ix.commit(docs.len() as u64).expect("commit");
    ix
}

fn find(ix: &SearchIndex, text: &str, spaces: &[u64]) -> Vec<u64> {
    let q = SearchQuery {
        text: text.into(),
        public: spaces.contains(&1),
        private_spaces: spaces.iter().copied().filter(|s| *s != 1).collect(),
        limit: 10,
        ..SearchQuery::default()
    };
    ix.search(&q).expect("search").threads.into_iter().map(|t| t.post).collect()
}

#[test]
fn a_portuguese_query_finds_french_and_spanish_posts() {
    let ix = index(&[
        doc(1, 1, "fr", "Au Sénégal, les coopératives de femmes transforment les céréales locales."),
        doc(2, 1, "es", "En Puebla, las cooperativas de mujeres venden café orgánico."),
        doc(3, 1, "en", "The weather in Turin was lovely during the Academy."),
    ]);
    let hits = find(&ix, "cooperativas de mulheres", &[1]);
    assert!(hits.contains(&1) && hits.contains(&2), "{hits:?}");
    assert!(!hits.contains(&3), "{hits:?}");
}

#[test]
fn accents_do_not_matter() {
    let ix = index(&[doc(1, 1, "es", "La economía social en México")]);
    assert_eq!(find(&ix, "economia", &[1]), vec![1]);
    assert_eq!(find(&ix, "ECONOMÍA", &[1]), vec![1]);
}

#[test]
fn translations_are_searched_in_their_language() {
    let mut d = doc(1, 1, "ko", "사회연대경제 기업들이 지역에서 일자리를 만듭니다");
    d.translations.push(("en".into(), "Social and solidarity economy enterprises create local jobs".into()));
    let ix = index(&[d]);
    assert_eq!(find(&ix, "jobs", &[1]), vec![1]);
    assert_eq!(find(&ix, "일자리를", &[1]), vec![1]);
}

#[test]
fn arabic_is_stemmed_and_korean_is_found_inside_its_words() {
    // "Women's cooperatives in Agadir create new jobs": the singular with its article,
    // and "women", find the plural; a Korean word is found without its particle (를).
    let ar = doc(1, 1, "ar", "التعاونيات النسائية في أكادير تخلق فرص عمل جديدة");
    let ko = doc(2, 1, "ko", "사회적경제 아카데미에서 협동조합 이야기를 나눠요");
    let ix = index(&[ar, ko]);
    assert_eq!(find(&ix, "التعاونية", &[1]), vec![1]);
    assert_eq!(find(&ix, "للتعاونيات", &[1]), vec![1]);
    assert_eq!(find(&ix, "نساء", &[1]), vec![1]);
    assert_eq!(find(&ix, "이야기", &[1]), vec![2]);
    assert_eq!(find(&ix, "협동조합", &[1]), vec![2]);
    assert!(find(&ix, "야구", &[1]).is_empty(), "baseball shares no bigram");
}

#[test]
fn the_glossary_bridges_unrelated_words() {
    // "travail décent" and "decent work" share no stem; the glossary names both.
    let ix = index(&[doc(1, 1, "fr", "Le travail décent pour les récupérateurs de déchets")]);
    assert_eq!(find(&ix, "decent work", &[1]), vec![1]);
    assert_eq!(find(&ix, "waste pickers", &[1]), vec![1]);
}

#[test]
fn nothing_outside_the_readable_spaces_is_found_or_counted() {
    let ix = index(&[doc(1, 1, "en", "cooperative housing in Seoul"), doc(2, 2, "en", "cooperative housing secrets")]);
    let q = SearchQuery { text: "cooperative".into(), public: true, limit: 10, ..SearchQuery::default() };
    let page = ix.search(&q).expect("search");
    assert_eq!(page.total, 1);
    assert_eq!(page.threads.len(), 1);
    assert_eq!(page.threads[0].post, 1);
    // Asking for the other space by filter does not widen access.
    let q = SearchQuery { space: Some(2), ..q };
    assert_eq!(ix.search(&q).expect("search"), SearchPage::default());
    assert!(find(&ix, "cooperative", &[]).is_empty());
}

#[test]
fn removed_and_replaced_documents() {
    let ix = index(&[doc(1, 1, "en", "fair trade coffee"), doc(2, 1, "en", "fair trade cocoa")]);
    ix.remove(1).expect("remove");
    ix.put(&doc(2, 1, "en", "microfinance for farmers")).expect("put");
    ix.commit(9).expect("commit");
    assert!(find(&ix, "coffee", &[1]).is_empty());
    assert!(find(&ix, "cocoa", &[1]).is_empty());
    assert_eq!(find(&ix, "microfinance", &[1]), vec![2]);
    assert_eq!(ix.applied().expect("applied"), Some(9));
    assert_eq!(ix.num_docs(), 1);
}

#[test]
fn hits_are_grouped_by_thread_and_paged() {
    let mut docs = Vec::new();
    for i in 1..=30u64 {
        let mut d = doc(i, 1, "en", "solidarity finance");
        d.room = i % 6; // six threads of five posts
        docs.push(d);
    }
    let ix = index(&docs);
    let q = SearchQuery { text: "solidarity".into(), public: true, limit: 4, ..SearchQuery::default() };
    let p1 = ix.search(&q).expect("search");
    assert_eq!(p1.total, 30);
    assert_eq!(p1.threads.len(), 4);
    assert!(p1.more);
    assert!(p1.threads.iter().all(|t| t.also.len() == 4));
    let p2 = ix.search(&SearchQuery { offset: 4, ..q.clone() }).expect("search");
    assert_eq!(p2.threads.len(), 2);
    assert!(!p2.more);
    let rooms: HashSet<u64> = p1.threads.iter().chain(&p2.threads).map(|t| t.room).collect();
    assert_eq!(rooms.len(), 6);
    // Recency: the newest post leads.
    let r = ix.search(&SearchQuery { sort: Sort::Recent, limit: 1, ..q }).expect("search");
    assert_eq!(r.threads[0].post, 30);
}

#[test]
fn filters_by_author_language_and_date() {
    let mut a = doc(1, 1, "en", "social enterprise");
    a.author = 7;
    let mut b = doc(2, 1, "fr", "entreprise sociale");
    b.translations.push(("es".into(), "empresa social".into()));
    let ix = index(&[a, b]);
    let base = SearchQuery { text: "social enterprise".into(), public: true, limit: 10, ..Default::default() };
    let posts =
        |q: SearchQuery| -> Vec<u64> { ix.search(&q).expect("s").threads.into_iter().map(|t| t.post).collect() };
    assert_eq!(posts(SearchQuery { author: Some(7), ..base.clone() }), vec![1]);
    assert_eq!(posts(SearchQuery { lang: Some("es".into()), ..base.clone() }), vec![2]);
    assert_eq!(posts(SearchQuery { from_ms: Some(1500), ..base.clone() }), vec![2]);
    assert_eq!(posts(SearchQuery { to_ms: Some(1500), ..base }), vec![1]);
}

#[test]
fn snippets_mark_the_matched_words_in_the_best_version() {
    let ix = index(&[]);
    let plan = ix.plan("cooperativas de mulheres").expect("plan");
    let h = ix
        .highlight(&plan, &[("fr", "Les coopératives de femmes du Sénégal"), ("en", "The weather")], 200)
        .expect("highlight");
    assert_eq!(h.lang, "fr");
    let marked: Vec<&str> = h.parts.iter().filter(|p| p.mark).map(|p| p.text.as_str()).collect();
    assert_eq!(marked, vec!["coopératives", "femmes"]);
    assert_eq!(h.snippet, "Les coopératives de femmes du Sénégal");
    let long = format!("{} cooperative {}", "word ".repeat(100), "end ".repeat(100));
    let h = ix.highlight(&plan, &[("en", &long)], 80).expect("highlight");
    assert!(h.snippet.chars().count() <= 84, "{}", h.snippet);
    assert!(h.parts.iter().any(|p| p.mark && p.text == "cooperative"));
}

#[test]
fn a_reopened_index_keeps_documents_and_applied() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let ix = SearchIndex::open(dir.path(), &Options::default()).expect("open");
        ix.put(&doc(1, 1, "pt", "comércio justo")).expect("put");
        ix.commit(42).expect("commit");
    }
    let ix = SearchIndex::open(dir.path(), &Options::default()).expect("reopen");
    assert_eq!(ix.applied().expect("applied"), Some(42));
    assert_eq!(find(&ix, "comercio", &[1]), vec![1]);
    let fp = ix.fingerprint().expect("fp");
    assert_eq!(fp.len(), 1);
    assert_eq!(fp[0].0, 1);
}

#[test]
fn access_holds_across_segments_sorts_and_deletes() {
    // Three commits, so three segments (the bitsets of private spaces are per segment
    // and cached): public 1, private 2 (the caller's), private 3 and, later, 4 (not).
    let ix = index(&[
        doc(1, 1, "en", "solidarity fund"),
        doc(2, 2, "en", "solidarity fund members"),
        doc(3, 3, "en", "solidarity fund secret"),
    ]);
    let q = |sort| SearchQuery {
        text: "solidarity fund".into(),
        public: true,
        private_spaces: vec![2],
        sort,
        limit: 10,
        ..SearchQuery::default()
    };
    let posts = |page: &SearchPage| page.threads.iter().map(|t| t.post).collect::<Vec<_>>();
    let page = ix.search(&q(Sort::Relevance)).expect("search");
    assert_eq!((page.total, page.threads.len()), (2, 2), "{page:?}");
    ix.put(&doc(4, 4, "fr", "fonds de solidarité, solidarity fund")).expect("put");
    ix.put(&doc(5, 1, "en", "a solidarity fund for cooperatives")).expect("put");
    ix.commit(5).expect("commit");
    ix.put(&doc(6, 3, "en", "solidarity fund minutes")).expect("put");
    ix.put(&doc(7, 2, "en", "solidarity fund agenda")).expect("put");
    ix.commit(7).expect("commit");
    for sort in [Sort::Relevance, Sort::Recent] {
        let page = ix.search(&q(sort)).expect("search");
        let mut got = posts(&page);
        assert_eq!(page.total, 4, "{sort:?}: {page:?}");
        if sort == Sort::Recent {
            assert_eq!(got, vec![7, 5, 2, 1], "newest first");
        }
        got.sort_unstable();
        assert_eq!(got, vec![1, 2, 5, 7], "{sort:?}");
    }
    // A guest sees the public posts only; a member of 4 sees its post too.
    let guest = SearchQuery { private_spaces: Vec::new(), ..q(Sort::Relevance) };
    assert_eq!(ix.search(&guest).expect("search").total, 2);
    let member = SearchQuery { private_spaces: vec![4], ..q(Sort::Relevance) };
    let page = ix.search(&member).expect("search");
    assert_eq!(page.total, 3);
    assert!(posts(&page).contains(&4));
    // Deleted documents are neither found nor counted.
    ix.remove(5).expect("remove");
    ix.remove(2).expect("remove");
    ix.commit(9).expect("commit");
    let page = ix.search(&q(Sort::Relevance)).expect("search");
    assert_eq!(page.total, 2, "{page:?}");
    let mut got = posts(&page);
    got.sort_unstable();
    assert_eq!(got, vec![1, 7]);
}

#[test]
fn private_documents_do_not_move_public_scores() {
    let public = [doc(1, 1, "pt", "Uma cooperativa de reciclagem em Campinas"), doc(2, 1, "pt", "Feiras no bairro")];
    let score = |ix: &SearchIndex| {
        let q = SearchQuery { text: "reciclagem".into(), public: true, limit: 10, ..SearchQuery::default() };
        ix.search(&q).expect("search").threads[0].score
    };
    let alone = score(&index(&public));
    let mut docs = public.to_vec();
    for i in 0..30 {
        docs.push(doc(100 + i, 2, "pt", "reciclagem reciclagem: a nossa posição sobre reciclagem"));
    }
    let with_private = score(&index(&docs));
    assert!((alone - with_private).abs() < 1e-6, "{alone} then {with_private}");
}

#[test]
fn a_file_is_a_hit_of_its_own_filtered_by_kind_and_removed_with_its_post() {
    let dir = tempfile::tempdir().expect("dir");
    let ix = SearchIndex::open(dir.path(), &Options::default()).expect("open");
    ix.put(&doc(1, 1, "en", "Minutes of the meeting")).expect("put");
    let file = PostDoc {
        post: FILE | 7,
        owner: 1,
        room: FILE | 7,
        title: Some("agenda.pdf".into()),
        ..doc(1, 1, "fr", "Les coopératives du Sénégal")
    };
    ix.put(&file).expect("put");
    ix.put(&doc(2, 1, "fr", "Les coopératives du Mali")).expect("put");
    ix.commit(1).expect("commit");
    let q = |files: Option<bool>| SearchQuery {
        text: "coopératives".into(),
        public: true,
        limit: 10,
        files,
        ..SearchQuery::default()
    };
    let posts = |p: SearchPage| p.threads.into_iter().map(|t| t.post).collect::<Vec<_>>();
    let mut both = posts(ix.search(&q(None)).expect("search"));
    both.sort_unstable();
    assert_eq!(both, vec![2, FILE | 7], "the file is a group of its own");
    assert_eq!(posts(ix.search(&q(Some(true))).expect("search")), vec![FILE | 7]);
    assert_eq!(posts(ix.search(&q(Some(false))).expect("search")), vec![2]);
    ix.remove(1).expect("remove");
    ix.commit(2).expect("commit");
    assert_eq!(posts(ix.search(&q(None)).expect("search")), vec![2], "the file went with its post");
}
