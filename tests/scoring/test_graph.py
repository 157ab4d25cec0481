from __future__ import annotations

import math
from collections.abc import Callable

import networkx as nx
import numpy as np
import pytest

from scoring import graph as graph_module
from scoring.graph import (
    GraphFeatureArrays,
    canonical_edges,
    compute_graph_features,
    features_networkx,
)
from scoring.model import GraphFeatures
from scoring.synthetic import synthetic_friendships

TOL = 1e-6


def for_node(f: GraphFeatureArrays, i: int) -> GraphFeatures:
    """One person's features as the per-person score model takes them (the tests' bridge
    between the vectorised arrays and scoring.model.GraphFeatures; the pass needs none)."""
    mean = float(f.friends_mean_score[i])
    return GraphFeatures(
        friend_count=int(f.degree[i]),
        friends_mean_score=None if math.isnan(mean) else mean,
        pagerank=float(f.pagerank[i]),
        effective_size=float(f.effective_size[i]),
    )


def messy_edges(G: nx.Graph, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """G's edges as int32 arrays with random directions, repeats and self-loops mixed in."""
    edges = np.array(list(G.edges()), dtype=np.int64).reshape(-1, 2)
    flip = rng.random(len(edges)) < 0.5
    edges[flip] = edges[flip][:, ::-1]
    repeats = edges[rng.random(len(edges)) < 0.3][:, ::-1]
    n = G.number_of_nodes()
    loops = np.repeat(rng.integers(0, max(n, 1), 3)[:, None], 2, axis=1) if n else edges[:0]
    allp = np.concatenate([edges, repeats, loops, edges[:2]])
    allp = allp[rng.permutation(len(allp))]
    return allp[:, 0].astype(np.int32), allp[:, 1].astype(np.int32)


def with_isolated(G: nx.Graph, extra: int) -> nx.Graph:
    H = nx.convert_node_labels_to_integers(G)
    H.add_nodes_from(range(H.number_of_nodes(), H.number_of_nodes() + extra))
    return H


GENERATORS: dict[str, Callable[[int], nx.Graph]] = {
    "gnp-sparse": lambda s: nx.gnp_random_graph(60, 0.03, seed=s),
    "gnp-dense": lambda s: nx.gnp_random_graph(40, 0.4, seed=s),
    "barabasi-albert": lambda s: with_isolated(nx.barabasi_albert_graph(120, 3, seed=s), 5),
    "powerlaw-cluster": lambda s: with_isolated(nx.powerlaw_cluster_graph(150, 4, 0.6, seed=s), 3),
    "watts-strogatz": lambda s: nx.watts_strogatz_graph(80, 6, 0.2, seed=s),
    "caveman": lambda s: with_isolated(nx.relaxed_caveman_graph(8, 6, 0.15, seed=s), 4),
    "star-and-clique": lambda s: with_isolated(
        nx.disjoint_union(nx.star_graph(25), nx.complete_graph(12)), 2
    ),
    "karate": lambda s: nx.karate_club_graph(),
    "all-isolated": lambda s: nx.empty_graph(7),
    "single-edge": lambda s: nx.path_graph(2),
}


def assert_matches_networkx(G: nx.Graph, f: GraphFeatureArrays) -> None:
    ref = features_networkx(G)
    # Some generators (relaxed caveman) rewire into self-loops; a friendship needs two people.
    G = nx.Graph(G)
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    n = G.number_of_nodes()
    pr = np.array([ref[i][0] for i in range(n)])
    eff = np.array([ref[i][1] for i in range(n)])
    np.testing.assert_allclose(f.pagerank, pr, rtol=0, atol=TOL)
    np.testing.assert_allclose(f.effective_size, eff, rtol=0, atol=TOL)
    tri = nx.triangles(G)
    assert f.triangles.tolist() == [tri[i] for i in range(n)]
    assert f.degree.tolist() == [G.degree(i) for i in range(n)]
    assert f.n_edges == G.number_of_edges()
    if n:
        assert math.isclose(float(f.pagerank.mean()), 1.0, abs_tol=1e-9)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_features_match_networkx(name: str, seed: int) -> None:
    G = GENERATORS[name](seed)
    rng = np.random.default_rng(seed)
    src, dst = messy_edges(G, rng)
    f = compute_graph_features(G.number_of_nodes(), src, dst)
    assert_matches_networkx(G, f)


@pytest.mark.parametrize("seed", range(6))
def test_friends_mean_score_uses_only_scored_friends(seed: int) -> None:
    G = nx.gnp_random_graph(50, 0.08, seed=seed)
    rng = np.random.default_rng(seed)
    scores = rng.uniform(350, 950, 50)
    scores[rng.random(50) < 0.3] = np.nan
    src, dst = messy_edges(G, rng)
    f = compute_graph_features(50, src, dst, scores)
    for v in range(50):
        known = [scores[u] for u in G[v] if not np.isnan(scores[u])]
        if known:
            assert f.friends_mean_score[v] == pytest.approx(np.mean(known), abs=1e-9)
        else:
            assert np.isnan(f.friends_mean_score[v])
    assert np.isnan(compute_graph_features(50, src, dst).friends_mean_score).all()


def test_networkx_oracle_maps_isolated_nodes_to_zero() -> None:
    G = nx.Graph()
    G.add_nodes_from([0, 1, 2])
    G.add_edge(0, 1)
    G.add_edge(2, 2)  # a self-loop is not a friendship
    ref = features_networkx(G)
    assert ref[2][1] == 0.0
    assert sum(v[0] for v in ref.values()) == pytest.approx(3.0)
    assert features_networkx(nx.Graph()) == {}


def test_chunked_triangle_counting_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force many small chunks so chunk boundaries cut through the wedge lists.
    monkeypatch.setattr(graph_module, "_CHUNK_CANDIDATES", 50)
    G = nx.powerlaw_cluster_graph(300, 5, 0.7, seed=3)
    src, dst = messy_edges(G, np.random.default_rng(3))
    f = compute_graph_features(300, src, dst)
    tri = nx.triangles(G)
    assert f.triangles.tolist() == [tri[i] for i in range(300)]


@pytest.mark.parametrize("counting_sort", [True, False])
def test_wedge_grouping_by_counting_sort_or_radix_sort_agrees(
    monkeypatch: pytest.MonkeyPatch, counting_sort: bool
) -> None:
    # Few candidates a chunk and both ways of grouping the wedge-starting edges by chunk.
    monkeypatch.setattr(graph_module, "_CHUNK_CANDIDATES", 40)
    monkeypatch.setattr(graph_module, "_use_counting_sort", lambda keys, m: counting_sort)
    G = with_isolated(nx.powerlaw_cluster_graph(250, 6, 0.6, seed=8), 7)
    src, dst = messy_edges(G, np.random.default_rng(8))
    f = compute_graph_features(G.number_of_nodes(), src, dst)
    tri = nx.triangles(G)
    assert f.triangles.tolist() == [tri[i] for i in range(G.number_of_nodes())]


def test_sliced_adjacency_product_matches_networkx(monkeypatch: pytest.MonkeyPatch) -> None:
    # Slices of a few friendships cut between rows, past rows without friends and isolated
    # people: PageRank and friends' mean score still match the model of record.
    monkeypatch.setattr(graph_module, "MATVEC_EDGES", 3)
    G = with_isolated(nx.powerlaw_cluster_graph(120, 3, 0.4, seed=9), 5)
    n = G.number_of_nodes()
    src, dst = messy_edges(G, np.random.default_rng(9))
    scores = np.where(np.arange(n) % 4 == 0, np.nan, 400.0 + np.arange(n))
    f = compute_graph_features(n, src, dst, scores)
    assert_matches_networkx(G, f)
    for v in range(n):
        known = [scores[w] for w in G[v] if not np.isnan(scores[w])]
        expected = float(np.mean(known)) if known else math.nan
        assert f.friends_mean_score[v] == pytest.approx(expected, nan_ok=True)


def test_large_node_ids_use_narrow_key_chunks() -> None:
    # 2**22 nodes leave 17 bits of x-offset per key: the x-range is split into 32 chunks.
    n = 1 << 22
    G = nx.powerlaw_cluster_graph(200, 4, 0.5, seed=5)
    ids = np.random.default_rng(5).choice(n, 200, replace=False)
    edges = np.array(list(G.edges()))
    f = compute_graph_features(n, ids[edges[:, 0]], ids[edges[:, 1]], workers=2)
    tri = nx.triangles(G)
    assert [int(f.triangles[ids[v]]) for v in range(200)] == [tri[v] for v in range(200)]
    assert int(f.triangles.sum()) == sum(tri.values())


def test_results_do_not_depend_on_worker_count() -> None:
    src, dst = synthetic_friendships(3000, 12, seed=9)
    scores = np.random.default_rng(9).uniform(350, 950, 3000)
    a = compute_graph_features(3000, src, dst, scores, workers=1)
    b = compute_graph_features(3000, src, dst, scores, workers=3)
    for name in ("degree", "triangles", "pagerank", "effective_size", "friends_mean_score"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_synthetic_graph_matches_networkx() -> None:
    src, dst = synthetic_friendships(1500, 10, seed=4)
    G = nx.Graph()
    G.add_nodes_from(range(1500))
    G.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    assert_matches_networkx(G, compute_graph_features(1500, src, dst))


def test_for_node_gives_model_features() -> None:
    f = compute_graph_features(3, np.array([0]), np.array([1]), np.array([700.0, 500.0, 600.0]))
    assert for_node(f, 0) == GraphFeatures(
        friend_count=1,
        friends_mean_score=500.0,
        pagerank=float(f.pagerank[0]),
        effective_size=1.0,
    )
    assert for_node(f, 2).friends_mean_score is None
    assert for_node(f, 2).friend_count == 0


@pytest.mark.parametrize(
    ("n", "src", "dst", "error"),
    [
        (3, [0, 1], [1], ValueError),
        (3, [0, 3], [1, 2], ValueError),
        (3, [-1], [1], ValueError),
        (3, [0.0], [1.0], TypeError),
        (-1, [], [], ValueError),
    ],
)
def test_bad_edges_are_refused(n: int, src: list[float], dst: list[float], error: type) -> None:
    with pytest.raises(error):
        compute_graph_features(n, np.array(src), np.array(dst))


def test_empty_population() -> None:
    f = compute_graph_features(0, np.zeros(0, np.int32), np.zeros(0, np.int32))
    assert f.pagerank.size == 0 and f.n_edges == 0


def test_canonical_edges() -> None:
    u, v = canonical_edges(4, [3, 1, 2, 2, 0], [1, 3, 2, 0, 2])
    assert list(zip(u.tolist(), v.tolist(), strict=True)) == [(0, 2), (1, 3)]


# ------------------------------------------------------------------------- synthetic graphs


def test_synthetic_friendships_are_canonical_and_sized() -> None:
    src, dst = synthetic_friendships(20_000, 20, seed=1)
    assert src.dtype == np.int32 and dst.dtype == np.int32
    assert len(src) == 200_000
    assert (src < dst).all()
    keys = src.astype(np.int64) * 20_000 + dst
    assert (np.diff(keys) > 0).all()  # sorted, no duplicates
    assert src.min() >= 0 and dst.max() < 20_000


def test_synthetic_friendships_are_heavy_tailed_and_clustered() -> None:
    n = 20_000
    src, dst = synthetic_friendships(n, 20, seed=2)
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    assert degree.mean() == pytest.approx(20, rel=1e-6)
    assert degree.max() > 20 * degree.mean()
    f = compute_graph_features(n, src, dst)
    assert f.triangles.sum() > 0


def test_synthetic_friendships_are_deterministic_per_seed() -> None:
    a = synthetic_friendships(5000, 8, seed=3)
    b = synthetic_friendships(5000, 8, seed=3)
    c = synthetic_friendships(5000, 8, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


@pytest.mark.parametrize(("n", "avg", "expected"), [(0, 5, 0), (1, 5, 0), (2, 5, 1), (6, 100, 15)])
def test_synthetic_friendships_small_populations(n: int, avg: float, expected: int) -> None:
    src, _ = synthetic_friendships(n, avg, seed=0)
    assert len(src) == expected


def test_pagerank_warm_start_gives_the_same_answer() -> None:
    src, dst = synthetic_friendships(4000, 10, seed=6)
    cold = compute_graph_features(4000, src, dst)
    warm = compute_graph_features(4000, src, dst, pagerank_start=cold.pagerank)
    np.testing.assert_allclose(warm.pagerank, cold.pagerank, rtol=0, atol=TOL)
    rough = compute_graph_features(4000, src, dst, pagerank_start=np.ones(4000))
    np.testing.assert_allclose(rough.pagerank, cold.pagerank, rtol=0, atol=TOL)
    with pytest.raises(ValueError):
        compute_graph_features(4000, src, dst, pagerank_start=np.ones(3))
