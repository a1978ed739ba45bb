#pragma once
// What the doctor checks for a configuration: the sending domains (each with its return path and
// the sources of the pools that send for it), the DKIM keys, the domains Volley receives mail
// for and the host names that must resolve. The runner looks up what the plan names.
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/delivery/ip_pool.hpp"
#include "core/dkim/signer.hpp"
#include "core/doctor/auth_checks.hpp"

namespace volley::doctor {

struct SendingDomain {
  std::string domain;
  std::string return_path_domain;  // the [[return_path]] domain for it; "": the sender's own address
  std::vector<delivery::Source> sources;  // of every pool that may send mail from it
};

// A domain whose MX must lead to Volley ([[return_path]] domains, [smtp_in] domains).
struct MailDomain {
  std::string domain;
  std::string role;
};

// A host name that must resolve, and why.
struct Host {
  std::string host;
  std::string role;
};

struct Plan {
  std::vector<DkimKey> keys;
  std::vector<SendingDomain> domains;
  std::vector<delivery::Source> sources;  // every source some sending domain uses, once
  std::vector<MailDomain> mail_domains;
  std::vector<Host> hosts;
  std::string smtp_in_hostname;  // what an MX for a return path should name
};

// The domains mail is sent from: those of [[dkim]] keys, of [[return_path]] sender_domain ("*"
// names none) and of [[submission_user]] sender_domains, lower case, each once, in that order.
std::vector<std::string> sending_domains(const Config& cfg);

// The host names that must resolve, beyond the MX hosts (e.g. [unsubscribe] base_url's host).
std::vector<Host> hosts_to_resolve(const Config& cfg);

// The sources that may send mail from `domain`: the pools of [[pool_rule]]s whose sender_domain
// is it (or any), and the default pool unless a rule for every tenant catches the domain first.
std::vector<delivery::Source> sources_for(const delivery::IpPools& pools, const std::string& domain);

// The public halves of the loaded signing keys.
std::vector<DkimKey> dkim_keys(const dkim::Signer& signer);

Plan make_plan(const Config& cfg, std::vector<DkimKey> keys);

}  // namespace volley::doctor
