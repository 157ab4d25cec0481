"""The betweenness estimator against networkx's exact values, and roles from percentiles."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from scoring.betweenness import estimate_betweenness, network_roles


def edges(G: nx.Graph[int]) -> tuple[np.ndarray, np.ndarray]:
    e = np.array(list(G.edges()), dtype=np.int64)
    return e[:, 0], e[:, 1]


def exact(G: nx.Graph[int]) -> np.ndarray:
    values = nx.betweenness_centrality(G, normalized=True)
    return np.array([values[v] for v in range(G.number_of_nodes())])


@pytest.mark.parametrize(("n", "graph_seed"), [(2000, 7), (2500, 11)])
def test_top_one_percent_and_the_bound_against_networkx(n: int, graph_seed: int) -> None:
    G = nx.powerlaw_cluster_graph(n, 3, 0.3, seed=graph_seed)
    truth = exact(G)
    result = estimate_betweenness(n, *edges(G), k=300, seed=1)
    assert not result.exact and result.pivots == 300
    top = n // 100
    by_estimate = set(np.argsort(-result.estimate, kind="stable")[:top].tolist())
    by_truth = set(np.argsort(-truth, kind="stable")[:top].tolist())
    assert len(by_estimate & by_truth) >= 0.8 * top
    # The stated bound holds for every node (it is a 95% bound; the seed is fixed).
    error = np.abs(result.estimate - truth)
    assert (error <= result.bound).all()
    assert (result.bound <= result.hoeffding_epsilon + 1e-15).all()


def test_every_node_a_pivot_is_exact() -> None:
    G = nx.powerlaw_cluster_graph(300, 2, 0.2, seed=3)
    G.add_nodes_from(range(300, 305))  # people with no friends
    result = estimate_betweenness(305, *edges(G), k=305)
    assert result.exact and (result.bound == 0).all()
    np.testing.assert_allclose(result.estimate, exact(G), atol=1e-12)


def test_duplicates_self_loops_and_tiny_graphs() -> None:
    src = np.array([0, 1, 1, 2, 2], dtype=np.int64)
    dst = np.array([1, 0, 2, 2, 3], dtype=np.int64)
    G: nx.Graph[int] = nx.path_graph(4)
    np.testing.assert_allclose(estimate_betweenness(4, src, dst, k=4).estimate, exact(G))
    assert estimate_betweenness(2, [0], [1], k=5).estimate.tolist() == [0.0, 0.0]
    assert estimate_betweenness(0, [], [], k=5).estimate.size == 0


def test_the_estimate_is_deterministic_for_a_seed() -> None:
    G = nx.powerlaw_cluster_graph(500, 2, 0.3, seed=5)
    a = estimate_betweenness(500, *edges(G), k=50, seed=9)
    b = estimate_betweenness(500, *edges(G), k=50, seed=9)
    assert np.array_equal(a.estimate, b.estimate) and np.array_equal(a.bound, b.bound)


def test_roles_from_percentiles() -> None:
    n = 100
    degree = np.full(n, 3.0)
    effective = np.full(n, 1.5)  # efficiency 0.5: friends mostly know each other
    betweenness = np.full(n, 0.001)
    degree[0], effective[0] = 40.0, 10.0  # a hub inside a tight group: connector
    betweenness[0] = 0.2
    degree[1], effective[1], betweenness[1] = 6.0, 6.0, 0.3  # spans holes: broker
    betweenness[2], effective[2] = 0.25, 0.5  # on paths but in a clique: no role
    degree[3] = 0.0  # no friends, no role
    effective[3] = betweenness[3] = 0.0
    roles = network_roles(degree, betweenness, effective)
    assert roles[0] == "connector"
    assert roles[1] == "broker"
    assert roles[2] is None and roles[3] is None
    assert sum(r is not None for r in roles) <= 10
    assert network_roles([], [], []) == []
