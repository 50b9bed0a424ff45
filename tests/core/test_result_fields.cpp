// The result tables (core/result_fields.hpp): for_each_field visits exactly the fields
// result_fields lists, in the same order, each with a name, a known type and a doc line, so a
// front end that renders a result through them (Python's dicts, docs/results.md) misses none.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "neuncut/core/result_fields.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"

namespace neuncut {
namespace {

template <class Result>
void expect_described_once(const std::vector<std::string>& must_have) {
  const Result r{};
  std::vector<std::string> visited;
  for_each_field(r, [&](const char* name, const auto&) { visited.emplace_back(name); });
  const auto& fields = result_fields(static_cast<const Result*>(nullptr));
  ASSERT_EQ(visited.size(), fields.size());
  std::set<std::string> names;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    SCOPED_TRACE(fields[i].name);
    EXPECT_EQ(visited[i], fields[i].name);
    EXPECT_TRUE(names.insert(fields[i].name).second) << "duplicate field";
    EXPECT_FALSE(fields[i].type.empty());
    EXPECT_FALSE(fields[i].doc.empty());
  }
  for (const std::string& name : must_have) EXPECT_TRUE(names.count(name)) << name << " is not in the table";
}

TEST(ResultFields, EveryResultIsDescribedOnce) {
  expect_described_once<NeuNcutFitResult>({"history", "threads", "l2_normalized", "collapse", "collapse_rollbacks",
                                           "quality", "features", "precision", "candidate_ncuts"});
  expect_described_once<NeuNcutEpochStats>({"epoch", "loss", "collapse", "rolled_back_to"});
  expect_described_once<SpectralNetFitResult>({"history", "labels", "warnings", "total_seconds"});
  expect_described_once<SpectralNetEpochStats>({"epoch", "cholesky_fallbacks"});
  expect_described_once<KMeansFitResult>({"labels", "inertia", "warnings", "inertia_trace"});
  expect_described_once<SpectralClusteringResult>({"labels", "solver_status", "warnings", "knn_method"});
}

TEST(ResultFields, TypedOutcomesNameTheirValues) {
  const auto& fields = result_fields(static_cast<const SpectralClusteringResult*>(nullptr));
  for (const FieldInfo& f : fields) {
    if (f.name == "solver_status") {
      EXPECT_EQ(f.type, "str");
      EXPECT_EQ(f.choices, enum_names<SolverStatus>());
    }
    if (f.name == "warnings") {
      EXPECT_EQ(f.type, "list of str");
    }
  }
  // Warnings are a list; the sentence the CLI and Python show joins them.
  SpectralClusteringResult r;
  EXPECT_EQ(r.message(), "");
  r.warnings = {"a", "b"};
  EXPECT_EQ(r.message(), "a; b");
  // A collapse is typed; its sentence is derived from the kind.
  CollapseStatus c;
  EXPECT_FALSE(c.collapsed());
  EXPECT_EQ(c.description(), "");
  c.kind = CollapseKind::EmptyClusters;
  c.clusters = 10;
  c.empty_clusters = 3;
  EXPECT_EQ(c.description(), "3 of 10 clusters empty");
}

}  // namespace
}  // namespace neuncut
