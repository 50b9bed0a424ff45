// The enum name lists (core/enum_names.hpp): every value of every enumerated option round-trips
// through its name, unknown names are refused with the choices listed, and a parameter table
// holding an enum takes its text, allowed values and docs from the same list.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/partition_quality.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/knn.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "neuncut/nn/optimizer.hpp"

namespace neuncut {
namespace {

// Every listed value: to_string then parse_enum gives it back; names are unique and non-empty;
// an unknown name is refused with a message naming it and every choice.
template <class E>
void expect_round_trip() {
  SCOPED_TRACE(std::string(EnumNames<E>::what));
  std::set<std::string> seen;
  for (const auto& n : EnumNames<E>::names) {
    const std::string name = to_string(n.value);
    EXPECT_EQ(name, n.name);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(name).second) << "duplicate name " << name;
    EXPECT_EQ(parse_enum<E>(name), n.value);
    std::ostringstream os;
    os << n.value;
    EXPECT_EQ(os.str(), name);
  }
  EXPECT_EQ(enum_names<E>().size(), seen.size());
  try {
    parse_enum<E>("no-such-choice");
    ADD_FAILURE() << "an unknown name was accepted";
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown " + std::string(EnumNames<E>::what) + " 'no-such-choice'"), std::string::npos) << what;
    for (const std::string& name : seen) EXPECT_NE(what.find(name), std::string::npos) << what;
  }
  EXPECT_THROW(parse_enum<E>(""), InvalidArgument);
}

TEST(EnumNames, EveryValueOfEveryOptionRoundTrips) {
  expect_round_trip<Precision>();
  expect_round_trip<AffinityKind>();
  expect_round_trip<Symmetrization>();
  expect_round_trip<KnnMethod>();
  expect_round_trip<FeatureScaling>();
  expect_round_trip<SyntheticKind>();
  expect_round_trip<QualityVerdict>();
  expect_round_trip<ModelMethod>();
  expect_round_trip<WeightDecayMode>();
  expect_round_trip<EmbeddingNormalization>();
  expect_round_trip<SolverStatus>();
  expect_round_trip<BiasInit>();
  expect_round_trip<InitMethod>();
  expect_round_trip<LrSchedule>();
  expect_round_trip<SigmaRuleChoice>();
  expect_round_trip<FeatureMap>();
  expect_round_trip<BatchAffinityKind>();
  expect_round_trip<RowNormalization>();
  expect_round_trip<ScalingChoice>();
  expect_round_trip<Recipe>();
  expect_round_trip<Selection>();
  expect_round_trip<CollapseKind>();
}

TEST(EnumNames, ChoicesReadAsAnEnglishList) {
  EXPECT_EQ(enum_choices<Precision>(), "fp32 or bf16");
  EXPECT_EQ(enum_choices<SigmaRuleChoice>(), "auto, neighbor or median");
  try {
    parse_enum<WeightDecayMode>("sgd");
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "unknown optimizer 'sgd' (expected adam or adamw)");
  }
}

// A table field of enum type: its choices are the enum's names, its text round-trips, and
// an unknown value is refused by the table's parse with the choices in the message.
template <class Params>
void expect_enum_fields_use_their_names(const std::vector<ParamInfo<Params>>& table) {
  int enum_fields = 0;
  for (const auto& info : table) {
    if (info.choices.empty()) continue;
    SCOPED_TRACE(info.name);
    ++enum_fields;
    EXPECT_EQ(info.type, "str");
    for (const std::string& choice : info.choices) {
      Params p;
      info.set(p, choice);
      EXPECT_EQ(info.get(p), choice);
    }
    EXPECT_NE(std::find(info.choices.begin(), info.choices.end(), info.default_text), info.choices.end());
    Params p;
    try {
      info.set(p, "no-such-choice");
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      for (const std::string& choice : info.choices)
        EXPECT_NE(std::string(e.what()).find(choice), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(enum_fields, 0);
}

TEST(EnumNames, ParameterTablesTakeTheirChoicesFromTheEnum) {
  expect_enum_fields_use_their_names(neuncut_param_table());
  expect_enum_fields_use_their_names(ncut_param_table());
  expect_enum_fields_use_their_names(spectralnet_param_table());
  // NeuNcut's string choices became enums: none of its str fields is free text but image_shape.
  for (const auto& info : neuncut_param_table())
    if (info.type == "str") {
      EXPECT_TRUE(!info.choices.empty() || info.name == "image_shape") << info.name;
    }
}

}  // namespace
}  // namespace neuncut
