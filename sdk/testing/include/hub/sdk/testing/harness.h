// The test harness for department plugins (target hub::sdk_testing): include this one header
// in a GoogleTest file. See docs/writing-a-plugin.md for a walk-through.
//
//   EventBuilder       a status change in one line          (event_builder.h)
//   FakeHost           config, data directory, clock, log   (fake_host.h)
//   PluginUnderTest    loads the .so as hubd does            (plugin_under_test.h)
//   EXPECT_ACTION …    assertions on the actions returned    (expectations.h)
//   TempDir            a scratch directory                   (temp_dir.h)
#pragma once

#include "hub/sdk/testing/event_builder.h"
#include "hub/sdk/testing/expectations.h"
#include "hub/sdk/testing/fake_host.h"
#include "hub/sdk/testing/plugin_under_test.h"
#include "hub/sdk/testing/temp_dir.h"
