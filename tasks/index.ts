import "./deploy";
import "./issuance";
import "./registry";
import "./staking";
import "./governance";
