#!/usr/bin/perl
# Decodes every bounce mail of a directory with p5-sisimai and prints, per failed recipient, one
# JSON line: the file, the recipient's index, sisimai's reason, its diagnostic text, the SMTP
# command it found, the status and reply code. Usage (see sisimai_corpus.py):
#   perl -I <p5-sisimai>/lib sisimai_dump.pl <set-of-emails>/maildir/bsd > facts.jsonl
# Needs libjson-perl and libclass-accessor-lite-perl.
use strict; use warnings;
use Sisimai; use JSON;
my $dir = shift;
opendir(my $dh, $dir) or die; my @files = sort grep { /\.eml$/ } readdir $dh;
my $js = JSON->new->canonical(1);
for my $f (@files) {
  my $v = eval { Sisimai->rise("$dir/$f") };
  next unless $v;
  my $i = 0;
  for my $e (@$v) {
    $i++;
    print $js->encode({file=>$f, index=>$i, reason=>$e->reason, diag=>$e->diagnosticcode, dtype=>$e->diagnostictype, cmd=>$e->smtpcommand, status=>$e->deliverystatus, code=>$e->replycode, rhost=>$e->rhost, agent=>$e->smtpagent}), "\n";
  }
}
