import "./deploy";
import "./issuance";
